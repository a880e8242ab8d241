/**
 * `npm run runbook:check [-- <dir>]`: validates every runbook manifest (MLOPS_RUNBOOKS_DIR or
 * ./runbooks, against the config at MLOPS_CONFIG) the way the bot does at start. Exits 78 naming
 * each bad file and key, 0 when all are valid.
 */
import { ConfigError, loadConfig, parseEnv } from "../src/config/index.js";
import { loadRunbooks } from "../src/runbooks/index.js";

try {
  const env = parseEnv(process.env);
  const config = loadConfig(env.MLOPS_CONFIG, process.env);
  const dir = process.argv[2] ?? env.MLOPS_RUNBOOKS_DIR;
  const runbooks = loadRunbooks(dir, config);
  for (const r of runbooks)
    process.stdout.write(
      `ok  ${r.name}: ${r.title}${r.verify ? " (verifies)" : ""}${r.confirm ? " (asks to confirm)" : ""}\n`,
    );
  process.stdout.write(`${runbooks.length} runbook${runbooks.length === 1 ? "" : "s"} valid in ${dir}\n`);
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`runbook:check: ${err.message}\n`);
    process.exit(78);
  }
  throw err;
}
