import { randomBytes } from "node:crypto";
import { type SandboxServer, startSandboxServer } from "../../src/slack/sandbox/index.js";
import { onCleanup } from "./support.js";

/** The bot token every bench process uses; the bench's own sandbox server accepts only this one. */
export const BENCH_TOKEN = "xoxb-bench";

/** A number from the environment (to shorten runs while developing), else the default. */
export function envNumber(name: string, fallback: number, min = 1): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min) throw new Error(`${name} must be a number >= ${min}, got ${raw}`);
  return n;
}

/** A standalone sandbox Slack Web API for the processes under test (their startup `auth.test`). */
export async function startBenchSandbox(): Promise<SandboxServer> {
  const server = await startSandboxServer({
    port: 0,
    token: BENCH_TOKEN,
    seed: {
      team: { id: "T0BENCH", name: "bench", domain: "bench" },
      users: [{ id: "U0BENCH", name: "bench", real_name: "Bench Mark" }],
      channels: [{ id: "C0BENCH", name: "bench" }],
    },
  });
  onCleanup(() => server.close());
  return server;
}

export function randomSecret(): string {
  return randomBytes(16).toString("hex");
}

/** Environment of the bot in HTTP mode, as an operator would set it. */
export function botHttpEnv(opts: {
  port: number;
  databaseUrl: string;
  signingSecret: string;
  apiUrl: string;
}): Record<string, string> {
  return { ...bareBoltEnv(opts), DATABASE_URL: opts.databaseUrl, LOG_LEVEL: "warn" };
}

/** Environment of the bare Bolt baseline. */
export function bareBoltEnv(opts: {
  port: number;
  signingSecret: string;
  apiUrl: string;
}): Record<string, string> {
  return {
    SLACK_BOT_TOKEN: BENCH_TOKEN,
    SLACK_SIGNING_SECRET: opts.signingSecret,
    SLACK_API_URL: opts.apiUrl,
    PORT: String(opts.port),
    HOST: "127.0.0.1",
  };
}

export const BARE_BOLT_SCRIPT = "test/bench/bare-bolt.ts";
