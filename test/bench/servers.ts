import type { BotProcess } from "../helpers/process.js";
import { cpuWindow, type StartCpu } from "./cpu.js";
import { BARE_BOLT_SCRIPT, bareBoltEnv, botHttpEnv } from "./env.js";
import {
  createBenchDatabase,
  freePort,
  pollUntil,
  spawnBotProcess,
  spawnTsx,
  stopProcess,
  track,
} from "./support.js";

export type ServerKind = "bot" | "bare";

/** A server under test, started and ready. */
export interface RunningServer {
  kind: ServerKind;
  proc: BotProcess;
  pid: number;
  /** http://127.0.0.1:<port> */
  base: string;
  /** The bot's database URL and name (bot only). */
  databaseUrl: string | undefined;
  databaseName: string | undefined;
  /** Spawn → ready, ms. */
  readyMs: number;
  /** CPU spent from spawn to ready, by the process and by the rest of the machine. */
  startCpu: StartCpu;
  /** Stops the process (SIGTERM, then SIGKILL after 10 s) and drops its database. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null; killed: boolean }>;
}

/**
 * Starts the bot (HTTP mode, a fresh Postgres database, `node dist/main.js`) and waits
 * for `/readyz` 200, or the bare Bolt baseline and waits for its first HTTP answer (it has no
 * readiness route; any status means it listens).
 */
export async function startServer(
  kind: ServerKind,
  opts: { signingSecret: string; apiUrl: string; bareEnv?: Record<string, string> },
): Promise<RunningServer> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const db = kind === "bot" ? await createBenchDatabase() : undefined;
  const window = cpuWindow();
  const spawnedAt = performance.now();
  const proc =
    kind === "bot"
      ? spawnBotProcess(botHttpEnv({ port, databaseUrl: db?.url as string, ...opts }))
      : spawnTsx(BARE_BOLT_SCRIPT, [], { ...bareBoltEnv({ port, ...opts }), ...opts.bareEnv });
  const stopTracked = track(proc);
  try {
    const readyAt =
      kind === "bot"
        ? await pollUntil(`${base}/readyz`, (s) => s === 200, proc)
        : await pollUntil(`${base}/`, (s) => s > 0, proc);
    const pid = proc.child.pid;
    if (pid === undefined) throw new Error(`${kind}: no pid`);
    const startCpu = window.end(pid);
    return {
      kind,
      proc,
      pid,
      base,
      databaseUrl: db?.url,
      databaseName: db?.name,
      readyMs: readyAt - spawnedAt,
      startCpu,
      async stop() {
        const exit = await stopProcess(proc);
        await stopTracked();
        await db?.drop();
        return exit;
      },
    };
  } catch (err) {
    await stopTracked();
    await db?.drop();
    throw err;
  }
}
