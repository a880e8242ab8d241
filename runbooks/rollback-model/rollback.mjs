// Rolls the model service back one version: POST <service_url>/admin/rollback.
// Params arrive as MLOPS_PARAM_* variables; the incident context as JSON on stdin.
import { readFileSync } from "node:fs";

const base = (process.env.MLOPS_PARAM_SERVICE_URL ?? "").replace(/\/+$/, "");
const context = JSON.parse(readFileSync(0, "utf8") || "{}");
console.log(
  `rolling back ${base} (incident ${context.incident?.ref ?? "none"}, reason: ${process.env.MLOPS_PARAM_REASON})`,
);
const before = await (await fetch(`${base}/health`, { signal: AbortSignal.timeout(5000) })).json();
console.log(`serving ${before.version}; rolling back to ${before.rollback_to ?? "nothing"}`);
const res = await fetch(`${base}/admin/rollback`, { method: "POST", signal: AbortSignal.timeout(10_000) });
console.log(`POST /admin/rollback → ${res.status} ${await res.text()}`);
process.exit(res.ok ? 0 : 1);
