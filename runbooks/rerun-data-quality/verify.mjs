// Passes when the newest data-quality run of the model found nothing (status ok).
const bot = (process.env.MLOPS_URL ?? "http://127.0.0.1:3000").replace(/\/+$/, "");
const model = process.env.MLOPS_PARAM_MODEL;
const res = await fetch(`${bot}/api/v1/models/${encodeURIComponent(model)}/runs`, {
  headers: { authorization: `Bearer ${process.env.MLOPS_RUN_TOKEN}` },
  signal: AbortSignal.timeout(10_000),
});
const { runs = [] } = await res.json();
const latest = runs.find((r) => r.monitor === "data_quality");
console.log(latest ? `newest data_quality run ${latest.id}: ${latest.status}` : "no data_quality run yet");
process.exit(latest?.status === "ok" ? 0 : 1);
