// Restarts the model service: POST <url>/admin/restart. The URL comes as --url (argv, never a shell).
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { url: { type: "string" } } });
const base = (values.url ?? "").replace(/\/+$/, "");
if (!/^https?:\/\//.test(base)) {
  console.error(`not a service URL: ${JSON.stringify(values.url)}`);
  process.exit(2);
}
console.log(`restarting ${base} …`);
const res = await fetch(`${base}/admin/restart`, { method: "POST", signal: AbortSignal.timeout(10_000) });
const body = await res.text();
console.log(`POST /admin/restart → ${res.status} ${body}`);
process.exit(res.ok ? 0 : 1);
