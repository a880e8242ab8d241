// Runs after every install (`postinstall`): small fixes to installed dependencies that upstream has
// not released yet. Each is an exact text replacement, applied once (a marker makes it idempotent);
// when a dependency's text no longer matches (a newer version), it says so and leaves it alone.
import { existsSync, readFileSync, writeFileSync } from "node:fs";

const MARKER = "/* mlops-bot: patched */";

/**
 * postgres.js 3.4.9 defers small writes to a setImmediate. When the server drops the connection
 * before it fires (Postgres restarted under load), `closed()` clears the timer but leaves it and the
 * buffered bytes set: the next immediate can run with `socket === null` and throw from the event
 * loop, killing the process (porsager/postgres#1066, #1154, #1208), and a reconnected connection
 * never flushes again because the stale timer blocks new ones. The guard and the resets below are
 * those of the upstream pull requests (#1168, #1176).
 */
const POSTGRES = {
  name: "postgres",
  files: ["src/connection.js", "cjs/src/connection.js", "cf/src/connection.js"],
  replacements: [
    [
      "    const x = socket.write(chunk, fn)\n",
      "    if (!socket) return (chunk = nextWriteTimer = null, false)\n    const x = socket.write(chunk, fn)\n",
    ],
    [
      "\n    clearImmediate(nextWriteTimer)\n",
      "\n    clearImmediate(nextWriteTimer), chunk = nextWriteTimer = null\n",
    ],
  ],
};

let failed = false;
for (const pkg of [POSTGRES]) {
  for (const file of pkg.files) {
    const path = `node_modules/${pkg.name}/${file}`;
    if (!existsSync(path)) continue;
    let text = readFileSync(path, "utf8");
    if (text.startsWith(MARKER)) continue;
    for (const [from, to] of pkg.replacements) {
      if (!text.includes(from)) {
        console.warn(`mlops-bot: ${path} no longer matches a patch; check whether upstream fixed it`);
        failed = true;
        continue;
      }
      text = text.split(from).join(to);
    }
    writeFileSync(path, `${MARKER}\n${text}`);
  }
}
if (failed) console.warn("mlops-bot: some dependency patches were not applied (see above)");
