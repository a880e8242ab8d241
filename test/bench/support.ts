import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { type BotProcess, ROOT, spawnNode } from "../helpers/process.js";

export { freePort, ROOT } from "../helpers/process.js";

/** Postgres server the benches create their databases on (trust auth on loopback by default). */
export const ADMIN_DATABASE_URL =
  process.env.BENCH_DATABASE_URL || "postgres://postgres@127.0.0.1:5432/postgres";

// ---------------------------------------------------------------------------------------------
// Cleanup: everything a bench starts or creates is registered here, so that a failure, an
// exception or Ctrl-C still stops the processes and drops the databases.

const cleanups = new Map<number, () => Promise<void> | void>();
let nextCleanupId = 1;

/** Registers an undo action; returns a function that runs it now (once) and forgets it. */
export function onCleanup(fn: () => Promise<void> | void): () => Promise<void> {
  const id = nextCleanupId++;
  cleanups.set(id, fn);
  return async () => {
    if (!cleanups.delete(id)) return;
    await fn();
  };
}

/** Runs every pending undo action, newest first; errors are reported and do not stop the rest. */
export async function runCleanups(): Promise<void> {
  const pending = [...cleanups.entries()].reverse();
  cleanups.clear();
  for (const [, fn] of pending) {
    try {
      await fn();
    } catch (err) {
      process.stderr.write(`bench cleanup: ${(err as Error).message}\n`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Processes

/**
 * For experiments only (never for the published figures): run the bot from a modified copy of the
 * repository (`BENCH_BOT_DIR`, with its own `node_modules` or a symlink to ours) and/or with extra
 * node flags such as `--cpu-prof` (`BENCH_BOT_NODE_ARGS`, space-separated). Sections say so.
 */
export const BOT_OVERRIDE = {
  dir: process.env.BENCH_BOT_DIR || undefined,
  nodeArgs: (process.env.BENCH_BOT_NODE_ARGS ?? "").split(" ").filter(Boolean),
};

/** A warning for the report when an experiment override is active, else "". */
export function overrideNote(): string {
  const parts = [
    BOT_OVERRIDE.dir ? `the bot ran from ${BOT_OVERRIDE.dir} (BENCH_BOT_DIR)` : "",
    BOT_OVERRIDE.nodeArgs.length ? `with node flags ${BOT_OVERRIDE.nodeArgs.join(" ")}` : "",
  ].filter(Boolean);
  return parts.length ? `**Experiment, not the repository's bot:** ${parts.join(", ")}.\n\n` : "";
}

/** The bot as `npm start` runs it (`node dist/main.js`, no shell), honouring BOT_OVERRIDE. */
export function spawnBotProcess(env: Record<string, string>): BotProcess {
  // As `npm start` runs it: the compiled JavaScript (run.ts builds it first), not through tsx.
  if (!BOT_OVERRIDE.dir && BOT_OVERRIDE.nodeArgs.length === 0) {
    return spawnTsx("dist/main.js", [], env, { tsx: false, nodeArgs: ["--enable-source-maps"] });
  }
  return spawnTsx("src/main.ts", [], env, { cwd: BOT_OVERRIDE.dir, nodeArgs: BOT_OVERRIDE.nodeArgs });
}

/** The same handle as the test helpers' `spawnBot`, for any script run with `node --import tsx`. */
export function spawnTsx(
  script: string,
  args: string[],
  env: Record<string, string>,
  opts: {
    cwd?: string;
    nodeArgs?: string[] /** false: plain node, without the tsx loader. */;
    tsx?: boolean;
  } = {},
): BotProcess {
  const loader = opts.tsx === false ? [] : ["--import", "tsx"];
  return spawnNode([...(opts.nodeArgs ?? []), ...loader, script, ...args], env, opts.cwd ?? ROOT);
}

function hasExited(p: BotProcess): boolean {
  return p.child.exitCode !== null || p.child.signalCode !== null;
}

/** SIGTERM, wait up to `graceMs` for the exit, then SIGKILL. Resolves with how it ended. */
export async function stopProcess(
  p: BotProcess,
  graceMs = 10_000,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; killed: boolean }> {
  if (hasExited(p)) return { ...(await p.exited), killed: false };
  p.child.kill("SIGTERM");
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), graceMs);
  });
  const first = await Promise.race([p.exited, timedOut]);
  clearTimeout(timer);
  if (first !== "timeout") return { ...first, killed: false };
  p.child.kill("SIGKILL");
  return { ...(await p.exited), killed: true };
}

/** Registers the process for cleanup; the returned stop() stops it and unregisters. */
export function track(p: BotProcess): () => Promise<Awaited<ReturnType<typeof stopProcess>>> {
  let result: Awaited<ReturnType<typeof stopProcess>> | undefined;
  const undo = onCleanup(async () => {
    result = await stopProcess(p, 5_000);
  });
  return async () => {
    await undo();
    return result ?? { ...(await p.exited), killed: false };
  };
}

/** One HTTP GET on a fresh connection; resolves with the status, rejects when nothing answers. */
export function getStatus(url: string, timeoutMs = 1000): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "GET", agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end();
  });
}

/**
 * Polls `url` every `intervalMs` (measured from the start of one poll to the start of the next)
 * until `accept(status)`; resolves with `performance.now()` at the accepted answer. Fails when
 * the process exits first or `timeoutMs` passes.
 */
export async function pollUntil(
  url: string,
  accept: (status: number) => boolean,
  p: BotProcess,
  opts: { intervalMs?: number; timeoutMs?: number } = {},
): Promise<number> {
  const intervalMs = opts.intervalMs ?? 20;
  const deadline = performance.now() + (opts.timeoutMs ?? 30_000);
  let last = "no answer";
  while (performance.now() < deadline) {
    if (hasExited(p)) {
      throw new Error(`process exited before ${url} was ready (${last}):\n${p.output().slice(-2000)}`);
    }
    const began = performance.now();
    try {
      const status = await getStatus(url, 1000);
      if (accept(status)) return performance.now();
      last = `HTTP ${status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    const wait = intervalMs - (performance.now() - began);
    if (wait > 0) await sleep(wait);
  }
  throw new Error(
    `${url} not ready within ${opts.timeoutMs ?? 30_000} ms (last: ${last}):\n${p.output().slice(-2000)}`,
  );
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// ---------------------------------------------------------------------------------------------
// /proc

/** Resident set size and its peak (VmHWM) of a live process, in MB (10^6 bytes, as the target is stated). */
export function readRss(pid: number): { rssMB: number; peakMB: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (key: string) =>
    Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN);
  return { rssMB: (kb("VmRSS") * 1024) / 1e6, peakMB: (kb("VmHWM") * 1024) / 1e6 };
}

// ---------------------------------------------------------------------------------------------
// Postgres databases and temp dirs

const BENCH_DB_PREFIX = "mlops_bench_";

function adminClient() {
  return postgres(ADMIN_DATABASE_URL, { max: 1, connect_timeout: 5, onnotice: () => {} });
}

/** A fresh, empty database named after this process (so stale ones can be recognised); dropped on cleanup. */
export async function createBenchDatabase(): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = `${BENCH_DB_PREFIX}${process.pid}_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;
  const admin = adminClient();
  try {
    await admin.unsafe(`create database ${name}`);
  } finally {
    await admin.end({ timeout: 2 });
  }
  const drop = onCleanup(async () => {
    const a = adminClient();
    try {
      await a.unsafe(`drop database if exists ${name} with (force)`);
    } finally {
      await a.end({ timeout: 2 });
    }
  });
  const url = new URL(ADMIN_DATABASE_URL);
  url.pathname = `/${name}`;
  return { name, url: url.toString(), drop };
}

/** Drops bench databases left by a bench process that no longer exists (e.g. one killed with SIGKILL). */
export async function dropStaleBenchDatabases(): Promise<string[]> {
  const admin = adminClient();
  const dropped: string[] = [];
  try {
    const rows = await admin<{ datname: string }[]>`
      select datname from pg_database where datname like ${`${BENCH_DB_PREFIX}%`}`;
    for (const { datname } of rows) {
      const pid = Number(/^mlops_bench_(\d+)_/.exec(datname)?.[1]);
      if (!Number.isInteger(pid) || pid === process.pid || isAlive(pid)) continue;
      await admin.unsafe(`drop database if exists ${datname} with (force)`);
      dropped.push(datname);
    }
  } finally {
    await admin.end({ timeout: 2 });
  }
  return dropped;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** A new temp directory, removed on cleanup. */
export function tempDir(prefix: string): { path: string; remove(): Promise<void> } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  const remove = onCleanup(() => rmSync(path, { recursive: true, force: true }));
  return { path, remove };
}

// ---------------------------------------------------------------------------------------------
// Statistics and formatting

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** Milliseconds with sensible precision. */
export function ms(v: number): string {
  if (!Number.isFinite(v)) return "n/a";
  return v < 10 ? `${v.toFixed(2)} ms` : v < 100 ? `${v.toFixed(1)} ms` : `${Math.round(v)} ms`;
}

export function mb(v: number): string {
  return Number.isFinite(v) ? `${v.toFixed(1)} MB` : "n/a";
}

/** Runs `work` over `items` with `concurrency` in flight; returns the seconds it took. */
export async function pool<T>(
  items: T[],
  concurrency: number,
  work: (item: T) => Promise<void>,
): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
  return (performance.now() - started) / 1000;
}

/** A rate of rows per second, as the benches print it. */
export const formatRate = (rate: number): string => `${Math.round(rate).toLocaleString("en-US")} rows/s`;

/**
 * Starts the bot as its own process on the bench database with the built-in sandbox (no Slack),
 * the config in `dir`, and `token` as its API token; the returned stopper is tracked for clean-up.
 */
export function spawnSandboxBot(opts: {
  port: number;
  databaseUrl: string;
  dir: string;
  configPath: string;
  token: string;
}): { proc: BotProcess; stop: ReturnType<typeof track>; url: string } {
  const proc = spawnBotProcess({
    PORT: String(opts.port),
    HOST: "127.0.0.1",
    DATABASE_URL: opts.databaseUrl,
    // The built-in sandbox on a Postgres database is meant here (no Slack needed).
    MLOPS_SANDBOX: "1",
    MLOPS_CONFIG: opts.configPath,
    MLOPS_RUNBOOKS_DIR: join(opts.dir, "runbooks"),
    MLOPS_API_TOKEN: opts.token,
    LOG_LEVEL: "warn",
  });
  return { proc, stop: track(proc), url: `http://127.0.0.1:${opts.port}` };
}
