// Passes when the service is healthy and no longer serves the version the incident fired for.
import { readFileSync } from "node:fs";

const base = (process.env.MLOPS_PARAM_SERVICE_URL ?? "").replace(/\/+$/, "");
const context = JSON.parse(readFileSync(0, "utf8") || "{}");
const bad = context.incident?.version ?? null;
const res = await fetch(`${base}/health`, { signal: AbortSignal.timeout(5000) });
const health = await res.json();
console.log(
  `health: ${res.status} status=${health.status} version=${health.version} (incident version ${bad ?? "unknown"})`,
);
process.exit(res.ok && health.status === "ok" && health.version !== bad ? 0 : 1);
