// Runs the data-quality monitor now through the bot's API (MLOPS_URL, and MLOPS_RUN_TOKEN: the run's own token).
const bot = (process.env.MLOPS_URL ?? "http://127.0.0.1:3000").replace(/\/+$/, "");
const token = process.env.MLOPS_RUN_TOKEN;
const model = process.env.MLOPS_PARAM_MODEL;
if (!token) {
  console.error("MLOPS_RUN_TOKEN is not set: the manifest must declare api_token");
  process.exit(2);
}
const res = await fetch(`${bot}/api/v1/models/${encodeURIComponent(model)}/monitors/data_quality/run`, {
  method: "POST",
  headers: { authorization: `Bearer ${token}` },
  signal: AbortSignal.timeout(90_000),
});
const run = await res.json();
if (!res.ok) {
  console.error(`the bot answered ${res.status}: ${JSON.stringify(run)}`);
  process.exit(1);
}
console.log(`data_quality run ${run.id}: ${run.status} over ${run.rows} rows`);
for (const f of run.findings ?? []) console.log(`- ${f.title}`);
if (run.note) console.log(`note: ${run.note}`);
