// Clears the model service's feature cache: POST <service_url>/admin/cache/clear.
const base = (process.env.MLOPS_PARAM_SERVICE_URL ?? "").replace(/\/+$/, "");
const res = await fetch(`${base}/admin/cache/clear`, { method: "POST", signal: AbortSignal.timeout(10_000) });
console.log(`POST /admin/cache/clear → ${res.status} ${await res.text()}`);
process.exit(res.ok ? 0 : 1);
