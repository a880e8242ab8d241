// Passes when /health reports an empty (just cleared) cache and status ok.
const base = (process.env.MLOPS_PARAM_SERVICE_URL ?? "").replace(/\/+$/, "");
const res = await fetch(`${base}/health`, { signal: AbortSignal.timeout(5000) });
const health = await res.json();
console.log(
  `health: status=${health.status} cache entries=${health.cache?.entries} cleared_at=${health.cache?.cleared_at}`,
);
process.exit(
  res.ok && health.status === "ok" && health.cache?.cleared_at && health.cache.entries < 100 ? 0 : 1,
);
