// Passes when GET <service_url>/health reports ok within a few tries.
const base = (process.env.MLOPS_PARAM_SERVICE_URL ?? "").replace(/\/+$/, "");
for (let attempt = 1; attempt <= 5; attempt++) {
  try {
    const res = await fetch(`${base}/health`, { signal: AbortSignal.timeout(3000) });
    const health = await res.json();
    console.log(`health (try ${attempt}): ${res.status} status=${health.status} version=${health.version}`);
    if (res.ok && health.status === "ok") process.exit(0);
  } catch (err) {
    console.log(`health (try ${attempt}): ${err.message}`);
  }
  await new Promise((r) => setTimeout(r, 500));
}
console.log("the service is still not healthy");
process.exit(1);
