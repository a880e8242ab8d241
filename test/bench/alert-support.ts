import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Sql } from "postgres";
import { parse as parseYaml } from "yaml";
import { configSchema, type MlopsConfig } from "../../src/config/index.js";
import { SandboxDriver, type SandboxServer, startSandboxServer } from "../../src/slack/sandbox/index.js";
import { sandboxSeedFromConfig } from "../../src/slack/sandbox-seed.js";
import type { BotProcess } from "../helpers/process.js";
import { BENCH_TOKEN, randomSecret } from "./env.js";
import {
  createBenchDatabase,
  freePort,
  onCleanup,
  pollUntil,
  sleep,
  spawnBotProcess,
  tempDir,
  track,
} from "./support.js";

/** The API token the alert benches give the bot. */
export const ALERT_BENCH_API_TOKEN = "mlops_alertbench_0123456789abcdef0123456789";

/** A bot process on its own Postgres database, its config, and a sandbox Slack outside it. */
export interface AlertBenchBot {
  url: string;
  databaseUrl: string;
  config: MlopsConfig;
  sandbox: SandboxServer;
  driver: SandboxDriver;
  proc: BotProcess;
  stop(): Promise<void>;
}

/**
 * Starts a sandbox seeded from `configYaml` (its channels, people and user groups) and the bot
 * as `npm start` runs it in HTTP mode against that sandbox, and waits for `/readyz`.
 */
export async function startAlertBenchBot(configYaml: string): Promise<AlertBenchBot> {
  const config = configSchema.parse(parseYaml(configYaml));
  const sandbox = await startSandboxServer({ token: BENCH_TOKEN, seed: sandboxSeedFromConfig(config) });
  onCleanup(() => sandbox.close());
  const db = await createBenchDatabase();
  const dir = tempDir("mlops-bench-alerts-");
  const configPath = join(dir.path, "mlops.config.yaml");
  writeFileSync(configPath, configYaml);
  const port = await freePort();
  const signingSecret = randomSecret();
  const proc = spawnBotProcess({
    PORT: String(port),
    HOST: "127.0.0.1",
    DATABASE_URL: db.url,
    MLOPS_CONFIG: configPath,
    // The bench's own models: the demo runbooks name the demo model, so none are loaded.
    MLOPS_RUNBOOKS_DIR: join(dir.path, "runbooks"),
    MLOPS_API_TOKEN: ALERT_BENCH_API_TOKEN,
    SLACK_BOT_TOKEN: BENCH_TOKEN,
    SLACK_SIGNING_SECRET: signingSecret,
    SLACK_API_URL: sandbox.apiUrl,
    LOG_LEVEL: "warn",
  });
  const stopProc = track(proc);
  const url = `http://127.0.0.1:${port}`;
  await pollUntil(`${url}/readyz`, (s) => s === 200, proc, { timeoutMs: 60_000 });
  const driver = new SandboxDriver({
    botUrl: `${url}/slack/events`,
    signingSecret,
    workspace: sandbox.workspace,
    sandboxBaseUrl: sandbox.url,
  });
  return {
    url,
    databaseUrl: db.url,
    config,
    sandbox,
    driver,
    proc,
    async stop() {
      await stopProc();
      await db.drop();
      await dir.remove();
    },
  };
}

/** POSTs JSON with the bench's bearer token; resolves with the status and parsed body. */
export async function postJson(url: string, body: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${ALERT_BENCH_API_TOKEN}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

/** The largest number of `times` (ms, ascending) inside any window of `windowMs`. */
export function maxInWindow(times: number[], windowMs: number): number {
  let best = 0;
  let start = 0;
  for (let end = 0; end < times.length; end++) {
    while ((times[end] as number) - (times[start] as number) >= windowMs) start++;
    best = Math.max(best, end - start + 1);
  }
  return best;
}

/**
 * Waits until the bot has delivered everything: nothing pending or sending in the outbox and no
 * firings held back by group_interval. Throws after 300 s, naming what is left.
 */
export async function waitDrained(sql: Sql, pollMs: number): Promise<void> {
  const deadline = Date.now() + 300_000;
  for (;;) {
    const [row] = await sql<{ open: number; held: number }[]>`
      select (select count(*)::int from outbox where state in ('pending', 'sending')) as open,
             (select coalesce(sum(pending_firings), 0)::int from incidents) as held`;
    if (row?.open === 0 && row.held === 0) return;
    if (Date.now() > deadline) throw new Error(`not drained after 300 s: ${JSON.stringify(row)}`);
    await sleep(pollMs);
  }
}
