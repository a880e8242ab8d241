/**
 * Open-loop load generator, run as its own process by the ack bench:
 *
 *   node --import tsx test/bench/load.ts '<json LoadOptions>'
 *
 * Request i is due at start + i / rate, whatever happened to the earlier ones (no waiting on
 * answers), so a slow server meets a growing queue instead of a politely slower client. Each
 * request is a freshly signed `/mlops <text>` slash command over a keep-alive `node:http` agent.
 * Latency runs from handing the request to `node:http` until the last byte of the answer. Prints
 * one JSON `LoadResult` on stdout.
 */
import { randomBytes } from "node:crypto";
import { Agent, request } from "node:http";
import type { Socket } from "node:net";
import { pathToFileURL } from "node:url";
import { signSlackRequest } from "../../src/slack/signature.js";
import { machineBusyMs, postgresCpuMs, processCpuMs } from "./cpu.js";

export interface LoadOptions {
  /** e.g. http://127.0.0.1:3000/slack/events */
  url: string;
  signingSecret: string;
  /** Requests per second. */
  rate: number;
  warmupMs: number;
  durationMs: number;
  /** Per request; a request still unanswered then counts as an error. */
  timeoutMs: number;
  /** The slash command text after `/mlops`. */
  text: string;
  /** Base of the response_url sent with each command (the sandbox server's). */
  responseUrlBase: string;
  /** Pid of the server under test, to read its CPU time over the measured window. */
  serverPid?: number;
  /** The server's database, to read its Postgres backends' CPU time (none for the baseline). */
  postgresDatabase?: string;
}

interface Stats {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

export interface LoadResult {
  options: Omit<LoadOptions, "signingSecret">;
  measured: {
    sent: number;
    ok: number;
    non200: Record<string, number>;
    errors: Record<string, number>;
    /** Send → full response, 200s only, ms. */
    latency: Stats;
    /** How late each request was handed to node:http relative to its schedule, ms. */
    sendLag: Stats;
    /** Requests sent per second over the measured window. */
    achievedSendRate: number;
    /** 200 answers per second over the measured window (first send to last answer). */
    achievedOkRate: number;
    responseBytes: { min: number; max: number };
    windowMs: number;
  };
  warmup: { sent: number; ok: number; failed: number };
  /** First 200 body of the measured window, to check that the answer is the help message. */
  sampleBody: string;
  /**
   * CPU time (user + system, all threads) over the measured window, by who spent it: the server
   * under test, the Postgres backends of its database, this generator, and everything else on the
   * machine (the rest of /proc/stat's busy time: the bench harness, the kernel, other people's work).
   */
  cpu: Record<CpuPart, CpuUse>;
  maxInFlight: number;
  socketsOpened: number;
}

export type CpuPart = "server" | "postgres" | "generator" | "other" | "machine";

export interface CpuUse {
  ms: number;
  perRequestMs: number;
  /** Percent of one core over the window. */
  coreSharePct: number;
}

interface CpuSnapshot {
  server: number;
  postgres: number;
  generator: number;
  machine: number;
}

function cpuSnapshot(serverPid: number | undefined, database: string | undefined): CpuSnapshot {
  return {
    server: serverPid ? processCpuMs(serverPid) : Number.NaN,
    postgres: database ? postgresCpuMs(database) : 0,
    generator: processCpuMs(process.pid),
    machine: machineBusyMs(),
  };
}

function stats(values: number[]): Stats {
  const s = Float64Array.from(values).sort();
  const pick = (p: number) => {
    if (s.length === 0) return Number.NaN;
    const rank = Math.ceil((p / 100) * s.length);
    return s[Math.min(s.length - 1, Math.max(0, rank - 1))] as number;
  };
  let sum = 0;
  for (const v of s) sum += v;
  return {
    p50: pick(50),
    p90: pick(90),
    p99: pick(99),
    p999: pick(99.9),
    max: s.length ? (s[s.length - 1] as number) : Number.NaN,
    mean: s.length ? sum / s.length : Number.NaN,
  };
}

function bump(map: Record<string, number>, key: string): void {
  map[key] = (map[key] ?? 0) + 1;
}

/** The i-th `/mlops <text>` request as Slack sends it: form body and signed headers (fresh timestamp). */
export function slashCommand(
  i: number,
  opts: Pick<LoadOptions, "text" | "signingSecret" | "responseUrlBase">,
): { body: string; headers: Record<string, string> } {
  const body = new URLSearchParams({
    token: "bench-verification-token",
    team_id: "T0BENCH",
    team_domain: "bench",
    channel_id: "C0BENCH",
    channel_name: "bench",
    user_id: "U0BENCH",
    user_name: "bench",
    command: "/mlops",
    text: opts.text,
    api_app_id: "A0MLOPSBOT",
    is_enterprise_install: "false",
    response_url: `${opts.responseUrlBase}response/bench-${i}`,
    trigger_id: `${Date.now()}.${i}.${randomBytes(8).toString("hex")}`,
  }).toString();
  const timestamp = Math.floor(Date.now() / 1000);
  return {
    body,
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      "content-length": String(Buffer.byteLength(body)),
      "user-agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
      "x-slack-request-timestamp": String(timestamp),
      "x-slack-signature": signSlackRequest(opts.signingSecret, timestamp, body),
    },
  };
}

export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const target = new URL(opts.url);
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const interval = 1000 / opts.rate;
  const warmupCount = Math.round((opts.rate * opts.warmupMs) / 1000);
  const total = warmupCount + Math.round((opts.rate * opts.durationMs) / 1000);

  const latencies: number[] = [];
  const lags: number[] = [];
  const non200: Record<string, number> = {};
  const errors: Record<string, number> = {};
  const warmup = { sent: 0, ok: 0, failed: 0 };
  let measuredSent = 0;
  let measuredOk = 0;
  let minBytes = Number.POSITIVE_INFINITY;
  let maxBytes = 0;
  let sampleBody = "";
  let inFlight = 0;
  let maxInFlight = 0;
  let socketsOpened = 0;
  const sockets = new WeakSet<Socket>();
  let firstMeasuredSend = Number.NaN;
  let lastMeasuredSend = Number.NaN;
  let lastMeasuredAnswer = Number.NaN;
  let cpuStart: CpuSnapshot | undefined;
  let outstanding = 0;
  let allSent = false;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });

  const send = (i: number, due: number) => {
    const measured = i >= warmupCount;
    const { body, headers } = slashCommand(i, opts);
    if (measured && measuredSent === 0) {
      cpuStart = cpuSnapshot(opts.serverPid, opts.postgresDatabase);
    }
    outstanding++;
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    let settled = false;
    const done = (status: number | undefined, error: string | undefined, bytes: number, text: string) => {
      if (settled) return;
      settled = true;
      const end = performance.now();
      inFlight--;
      if (measured) {
        lastMeasuredAnswer = Math.max(Number.isNaN(lastMeasuredAnswer) ? 0 : lastMeasuredAnswer, end);
        if (error) bump(errors, error);
        else if (status !== 200) bump(non200, String(status));
        else {
          measuredOk++;
          latencies.push(end - start);
          minBytes = Math.min(minBytes, bytes);
          maxBytes = Math.max(maxBytes, bytes);
          if (!sampleBody) sampleBody = text;
        }
      } else if (!error && status === 200) warmup.ok++;
      else warmup.failed++;
      outstanding--;
      if (allSent && outstanding === 0) finish();
    };
    const start = performance.now();
    if (measured) {
      measuredSent++;
      lags.push(start - due);
      if (Number.isNaN(firstMeasuredSend)) firstMeasuredSend = start;
      lastMeasuredSend = start;
    } else warmup.sent++;
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: "POST",
        agent,
        headers,
        timeout: opts.timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const buf = Buffer.concat(chunks);
          done(res.statusCode, undefined, buf.length, sampleBody ? "" : buf.toString("utf8"));
        });
        res.on("error", (err: NodeJS.ErrnoException) => done(undefined, err.code ?? err.message, 0, ""));
      },
    );
    req.on("socket", (s: Socket) => {
      if (!sockets.has(s)) {
        sockets.add(s);
        socketsOpened++;
      }
    });
    req.on("timeout", () => req.destroy(Object.assign(new Error("timeout"), { code: "TIMEOUT" })));
    req.on("error", (err: NodeJS.ErrnoException) => done(undefined, err.code ?? err.message, 0, ""));
    req.end(body);
  };

  const t0 = performance.now() + 20;
  let next = 0;
  await new Promise<void>((resolve) => {
    const pump = () => {
      const now = performance.now();
      while (next < total && t0 + next * interval <= now) {
        send(next, t0 + next * interval);
        next++;
      }
      if (next < total) setTimeout(pump, Math.max(0, t0 + next * interval - performance.now()));
      else resolve();
    };
    setTimeout(pump, 20);
  });
  allSent = true;
  if (outstanding === 0) finish();
  await finished;

  const windowMs = lastMeasuredAnswer - firstMeasuredSend;
  const cpuEnd = cpuSnapshot(opts.serverPid, opts.postgresDatabase);
  const begin = cpuStart ?? cpuEnd;
  const use = (spent: number): CpuUse => ({
    ms: spent,
    perRequestMs: spent / Math.max(1, measuredSent),
    coreSharePct: (spent / windowMs) * 100,
  });
  const spent = {
    server: cpuEnd.server - begin.server,
    postgres: cpuEnd.postgres - begin.postgres,
    generator: cpuEnd.generator - begin.generator,
    machine: cpuEnd.machine - begin.machine,
  };
  const other = Math.max(0, spent.machine - (spent.server || 0) - spent.postgres - spent.generator);
  agent.destroy();
  const { signingSecret: _secret, ...shown } = opts;
  return {
    options: shown,
    measured: {
      sent: measuredSent,
      ok: measuredOk,
      non200,
      errors,
      latency: stats(latencies),
      sendLag: stats(lags),
      achievedSendRate:
        measuredSent > 1 ? ((measuredSent - 1) * 1000) / (lastMeasuredSend - firstMeasuredSend) : 0,
      achievedOkRate: windowMs > 0 ? (measuredOk * 1000) / windowMs : 0,
      responseBytes: { min: Number.isFinite(minBytes) ? minBytes : 0, max: maxBytes },
      windowMs,
    },
    warmup,
    sampleBody: sampleBody.slice(0, 400),
    cpu: {
      server: use(spent.server),
      postgres: use(spent.postgres),
      generator: use(spent.generator),
      other: use(other),
      machine: use(spent.machine),
    },
    maxInFlight,
    socketsOpened,
  };
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  const arg = process.argv[2];
  if (!arg) {
    process.stderr.write("usage: load.ts '<json options>'\n");
    process.exit(2);
  }
  runLoad(JSON.parse(arg) as LoadOptions).then(
    (result) => {
      process.stdout.write(`${JSON.stringify(result)}\n`);
      process.exit(0);
    },
    (err: unknown) => {
      process.stderr.write(`load generator failed: ${(err as Error)?.stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
