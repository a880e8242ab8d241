import { writeFileSync } from "node:fs";
import { join } from "node:path";
import postgres from "postgres";
import { envNumber, randomSecret, startBenchSandbox } from "./env.js";
import { type CpuUse, type LoadOptions, type LoadResult, slashCommand } from "./load.js";
import { type RunningServer, type ServerKind, startServer } from "./servers.js";
import { mb, ms, onCleanup, overrideNote, readRss, spawnTsx, stopProcess, tempDir } from "./support.js";
import type { Bench, BenchContext, Section, TargetRow } from "./types.js";

const P99_TARGET_MS = 50;
const RATIO_TARGET = 1.2;
/** A run during which the rest of the machine used more than this share of one core is "disturbed". */
const DISTURBED_PCT = 25;

interface Run {
  round: number;
  kind: ServerKind;
  load: LoadResult;
  rssAfterMB: number;
  peakMB: number;
  /** Audit rows the bot wrote (bot only): one per request expected. */
  auditRows: number | undefined;
  exit: string;
}

/** Runs `load.ts` in its own process and parses its JSON. */
async function runLoadProcess(opts: LoadOptions): Promise<LoadResult> {
  const proc = spawnTsx("test/bench/load.ts", [JSON.stringify(opts)], {});
  const undo = onCleanup(() => stopProcess(proc, 2_000).then(() => {}));
  const limit = opts.warmupMs + opts.durationMs + opts.timeoutMs + 20_000;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), limit);
  });
  const exit = await Promise.race([proc.exited, timedOut]);
  clearTimeout(timer);
  await undo();
  if (exit === "timeout") throw new Error(`load generator did not finish within ${limit} ms`);
  const line = proc
    .output()
    .split("\n")
    .find((l) => l.startsWith("{"));
  if (exit.code !== 0 || !line)
    throw new Error(`load generator failed (${JSON.stringify(exit)}):\n${proc.output()}`);
  return JSON.parse(line) as LoadResult;
}

async function countAuditRows(url: string): Promise<number> {
  const sql = postgres(url, { max: 1, connect_timeout: 5, onnotice: () => {} });
  try {
    const [row] = await sql<{ n: string }[]>`select count(*)::text as n from audit_log`;
    return Number(row?.n ?? Number.NaN);
  } finally {
    await sql.end({ timeout: 2 });
  }
}

function failures(r: LoadResult): number {
  const sum = (m: Record<string, number>) => Object.values(m).reduce((a, b) => a + b, 0);
  return sum(r.measured.non200) + sum(r.measured.errors);
}

function failureText(r: LoadResult): string {
  const parts = [
    ...Object.entries(r.measured.non200).map(([k, v]) => `${v}× HTTP ${k}`),
    ...Object.entries(r.measured.errors).map(([k, v]) => `${v}× ${k}`),
  ];
  return parts.length ? parts.join(", ") : "none";
}

/** The run of `kind` with the lowest p99, among the undisturbed ones when there are any. */
function best(runs: Run[], kind: ServerKind): Run {
  const mine = runs.filter((r) => r.kind === kind);
  const quiet = mine.filter((r) => !disturbed(r));
  const sorted = [...(quiet.length ? quiet : mine)].sort(
    (a, b) => a.load.measured.latency.p99 - b.load.measured.latency.p99,
  );
  const first = sorted[0];
  if (!first) throw new Error(`no ${kind} run`);
  return first;
}

interface HelpLine {
  name: string;
  usage: string;
  summary: string;
}

/**
 * Asks the running bot for `/mlops help` once and reads its subcommand list back from the help
 * lines (\`/mlops <name> <usage>\` — <summary>), so the baseline can build the same answer.
 */
async function botSubcommands(
  base: string,
  signingSecret: string,
  responseUrlBase: string,
): Promise<HelpLine[]> {
  const { body, headers } = slashCommand(0, { text: "help", signingSecret, responseUrlBase });
  const res = await fetch(`${base}/slack/events`, { method: "POST", headers, body });
  if (res.status !== 200) throw new Error(`the bot answered /mlops help with HTTP ${res.status}`);
  const reply = (await res.json()) as { blocks?: { type: string; text?: { text?: string } }[] };
  const section = reply.blocks?.find((b) => b.type === "section")?.text?.text ?? "";
  return section.split("\n").flatMap((line) => {
    const m = /^`\/mlops (\S+)(?: (.*?))?` — (.*)$/.exec(line);
    return m ? [{ name: m[1] as string, usage: m[2] ?? "", summary: m[3] as string }] : [];
  });
}

async function measure(
  kind: ServerKind,
  round: number,
  common: { signingSecret: string; apiUrl: string; sandboxUrl: string; bareEnv: Record<string, string> },
  load: Omit<LoadOptions, "url" | "signingSecret" | "responseUrlBase" | "serverPid" | "postgresDatabase">,
  ctx: BenchContext,
  subcommandsFile: string,
): Promise<Run> {
  const server: RunningServer = await startServer(kind, common);
  try {
    if (kind === "bot" && !common.bareEnv.BARE_SUBCOMMANDS_FILE) {
      const list = await botSubcommands(server.base, common.signingSecret, common.sandboxUrl);
      if (list.length) {
        writeFileSync(subcommandsFile, JSON.stringify(list));
        common.bareEnv.BARE_SUBCOMMANDS_FILE = subcommandsFile;
      }
    }
    ctx.log(`ack: round ${round}, ${kind} ready in ${Math.round(server.readyMs)} ms; loading…`);
    const result = await runLoadProcess({
      ...load,
      url: `${server.base}/slack/events`,
      signingSecret: common.signingSecret,
      responseUrlBase: common.sandboxUrl,
      serverPid: server.pid,
      postgresDatabase: server.databaseName,
    });
    const rss = readRss(server.pid);
    const auditRows = server.databaseUrl ? await countAuditRows(server.databaseUrl) : undefined;
    const exit = await server.stop();
    const m = result.measured;
    ctx.log(
      `ack: round ${round}, ${kind}: p50 ${ms(m.latency.p50)} p99 ${ms(m.latency.p99)} max ${ms(m.latency.max)}, ` +
        `${m.ok}/${m.sent} ok, ${m.achievedSendRate.toFixed(1)} req/s, RSS ${mb(rss.rssMB)}`,
    );
    return {
      round,
      kind,
      load: result,
      rssAfterMB: rss.rssMB,
      peakMB: rss.peakMB,
      auditRows,
      exit: exit.killed
        ? "killed after 10 s"
        : exit.code === 0
          ? "clean"
          : `code ${exit.code} signal ${exit.signal}`,
    };
  } catch (err) {
    await server.stop();
    throw err;
  }
}

function disturbed(r: Run): boolean {
  return r.load.cpu.other.coreSharePct > DISTURBED_PCT;
}

function serverName(r: Run): string {
  return `${r.round}: ${r.kind === "bot" ? "mlops-bot" : "bare Bolt"}${disturbed(r) ? " (disturbed)" : ""}`;
}

/** Latency and delivery per run. */
function latencyTable(runs: Run[]): string {
  return [
    "| run | p50 | p90 | p99 | p99.9 | max | mean | sent / 200 | failures | achieved rate (sent, answered) | send lag p99 / max |",
    `|${"---|".repeat(11)}`,
    ...runs.map((r) => {
      const m = r.load.measured;
      const l = m.latency;
      return `| ${serverName(r)} | ${ms(l.p50)} | ${ms(l.p90)} | ${ms(l.p99)} | ${ms(l.p999)} | ${ms(l.max)} | ${ms(l.mean)} | ${m.sent} / ${m.ok} | ${failureText(r.load)} | ${m.achievedSendRate.toFixed(1)}, ${m.achievedOkRate.toFixed(1)} req/s | ${ms(m.sendLag.p99)} / ${ms(m.sendLag.max)} |`;
    }),
  ].join("\n");
}

/** The server's CPU per request in one run, e.g. `0.86 ms`. */
function cpuPerRequest(r: Run): string {
  return `${r.load.cpu.server.perRequestMs.toFixed(2)} ms`;
}

/** Where the CPU went per run, and memory after it. */
function resourceTable(runs: Run[]): string {
  const cpu = (u: CpuUse) => `${u.perRequestMs.toFixed(2)} (${u.coreSharePct.toFixed(0)}%)`;
  return [
    "| run | CPU ms per request (% of one core): server | Postgres | load generator | everything else | whole machine | response bytes | RSS after | stopped |",
    `|${"---|".repeat(10)}`,
    ...runs.map((r) => {
      const c = r.load.cpu;
      const b = r.load.measured.responseBytes;
      return `| ${serverName(r)} | ${cpu(c.server)} | ${cpu(c.postgres)} | ${cpu(c.generator)} | ${cpu(c.other)} | ${cpu(c.machine)} | ${b.min === b.max ? b.min : `${b.min}–${b.max}`} | ${mb(r.rssAfterMB)} | ${r.exit} |`;
    }),
  ].join("\n");
}

export const ackBench: Bench = {
  name: "ack",
  title: "Slash-command ack latency",
  async run(ctx): Promise<Section> {
    const rate = envNumber("BENCH_RATE", 200);
    const warmupMs = envNumber("BENCH_WARMUP_MS", 3_000);
    const durationMs = envNumber("BENCH_DURATION_MS", 20_000);
    const minRounds = envNumber("BENCH_ROUNDS", 2);
    const maxRounds = minRounds + envNumber("BENCH_EXTRA_ROUNDS", 2, 0);
    const measuredAt = new Date().toISOString();

    const sandbox = await startBenchSandbox();
    const common = {
      signingSecret: randomSecret(),
      apiUrl: sandbox.apiUrl,
      sandboxUrl: sandbox.url,
      bareEnv: {} as Record<string, string>,
    };
    const scratch = tempDir("mlops-bench-ack-");
    const subcommandsFile = join(scratch.path, "subcommands.json");
    const load = { rate, warmupMs, durationMs, timeoutMs: 5_000, text: "help" };

    const runs: Run[] = [];
    const quietRound = (round: number) => runs.filter((r) => r.round === round && !disturbed(r)).length === 2;
    let rounds = 0;
    while (rounds < minRounds || (rounds < maxRounds && !runs.some((r) => quietRound(r.round)))) {
      rounds++;
      if (rounds > minRounds) ctx.log(`ack: no undisturbed round yet; extra round ${rounds}`);
      for (const kind of ["bot", "bare"] as const)
        runs.push(await measure(kind, rounds, common, load, ctx, subcommandsFile));
    }

    const bot = best(runs, "bot");
    const bare = best(runs, "bare");
    const bl = bot.load.measured;
    const bb = bare.load.measured;
    const ratio = bl.latency.p99 / bb.latency.p99;
    const ratioP50 = bl.latency.p50 / bb.latency.p50;
    const botFailures = runs.filter((r) => r.kind === "bot").reduce((n, r) => n + failures(r.load), 0);
    const rateKept = runs.every((r) => r.load.measured.achievedSendRate >= rate * 0.98);
    const perRoundRatios = Array.from({ length: rounds }, (_, i) => {
      const b = runs.find((r) => r.round === i + 1 && r.kind === "bot");
      const a = runs.find((r) => r.round === i + 1 && r.kind === "bare");
      return b && a ? (b.load.measured.latency.p99 / a.load.measured.latency.p99).toFixed(2) : "n/a";
    });
    const sizes = new Set(runs.map((r) => r.load.measured.responseBytes.max));
    const botRuns = runs.filter((r) => r.kind === "bot");
    const expectedAudit = (warmupMs / 1000) * rate + (durationMs / 1000) * rate;
    // The first bot run also answers the one help request that reads the subcommand list.
    const auditNote = botRuns
      .map(
        (r, i) =>
          `round ${r.round}: ${r.auditRows} rows for ${Math.round(expectedAudit) + (i === 0 ? 1 : 0)} requests`,
      )
      .join("; ");

    const rows: TargetRow[] = [
      {
        target: `Ack p99 at ${rate} signed req/s ≤ ${P99_TARGET_MS} ms (all answered 200)`,
        measured: `p99 ${ms(bl.latency.p99)} (p50 ${ms(bl.latency.p50)}, max ${ms(bl.latency.max)}; ${botFailures} failures in ${botRuns.length} runs)`,
        baseline: `bare Bolt p99 ${ms(bb.latency.p99)} (p50 ${ms(bb.latency.p50)}, max ${ms(bb.latency.max)})`,
        met: bl.latency.p99 <= P99_TARGET_MS && botFailures === 0 && rateKept,
      },
      {
        target: `Ack p99 ≤ ${RATIO_TARGET}× bare Bolt's, same run`,
        measured: `${ratio.toFixed(2)}× (p50: ${ratioP50.toFixed(2)}×; per round p99: ${perRoundRatios.join(", ")})`,
        baseline: `bare Bolt p99 ${ms(bb.latency.p99)}`,
        met: ratio <= RATIO_TARGET,
        missed: `the median is close (${ratioP50.toFixed(2)}×) but the tail is not. Per request the bot spends ${cpuPerRequest(bot)} of CPU against bare Bolt's ${cpuPerRequest(bare)} (fastify routing, the raw-body capture for the signature check, the command router, queueing the audit record, the metrics histogram), and every 100 ms the batched audit insert wakes a Postgres backend; on ${ctx.machine.cores} cores shared with the load generator those bursts of work land in the slowest 1% of requests. What would fix it: a lighter ack path (answer from a pre-rendered reply before routing or metrics) and a longer audit flush interval (\`AUDIT_FLUSH_MS\`), then re-measure on a machine where the load generator has its own cores: the absolute target (p99 ≤ ${P99_TARGET_MS} ms) is met with a wide margin.`,
      },
      {
        target: "RSS right after the load run (reported only)",
        measured: mb(bot.rssAfterMB),
        baseline: `bare Bolt ${mb(bare.rssAfterMB)}`,
        met: null,
      },
    ];

    const body = `${overrideNote()}**How.** The bot runs as its own process exactly like \`npm start\` (the compiled \`node dist/main.js\`, no shell) in HTTP mode: \`SLACK_BOT_TOKEN=xoxb-bench\`, a random \`SLACK_SIGNING_SECRET\`, \`SLACK_API_URL\` pointing at a standalone sandbox Web API started by the bench (so the startup \`auth.test\` succeeds), \`DATABASE_URL\` = a freshly created Postgres database (dropped afterwards), \`LOG_LEVEL=warn\`, listening on 127.0.0.1. The baseline is [\`test/bench/bare-bolt.ts\`](test/bench/bare-bolt.ts) in its own process: a bare Bolt \`App\` on its built-in HTTPReceiver whose \`/mlops\` listener acks with the same text and blocks (same \`helpBlocks\` builder, same subcommand list; see *response bytes* below) and does nothing else — no database, no audit record, no fastify, no metrics.

The load generator ([\`test/bench/load.ts\`](test/bench/load.ts)) is a third process: open loop at ${rate} req/s (request *i* is due at *start + i/rate* whether or not earlier ones were answered), \`node:http\` with a keep-alive agent, each request a \`/mlops help\` form body with the fields Slack sends, a fresh timestamp and a \`signSlackRequest\` signature. ${warmupMs / 1000} s of warm-up (not counted), then ${durationMs / 1000} s measured (${Math.round((rate * durationMs) / 1000)} requests). Latency = from handing the request to \`node:http\` to the last byte of the answer, 200s only; anything else counts as a failure. *Send lag* is how late the generator sent each request against its schedule (large values would mean the generator, not the server, fell behind). Percentiles are nearest-rank. CPU is utime+stime from \`/proc/<pid>/stat\` over the measured window, for the server, the Postgres backends of its database (recognised by their process title) and the generator; *everything else* is the rest of the machine's busy time from \`/proc/stat\` (the bench harness, the kernel, and anything else running on the machine — a large figure there flags a disturbed run); RSS is \`VmRSS\` from \`/proc/<pid>/status\` right after the load ended.

Order: ${Array.from({ length: rounds }, () => "bot, bare").join(", ")} — one at a time, each in a fresh process with its own warm-up. **The table above uses, for each server, the run with the lowest p99 among its undisturbed runs (among all when every run was disturbed)**; every run is listed below. The machine has ${ctx.machine.cores} cores shared by the server under test, Postgres, the load generator and the bench process (idle sandbox), so this measures latency with a client competing for the same CPUs — like-for-like for bot and baseline, but not a dedicated-server figure. A run is marked *disturbed* when the rest of the machine (*everything else* below) used more than ${DISTURBED_PCT}% of a core during it — other work on a shared machine; the bench runs ${minRounds} rounds and adds up to ${maxRounds - minRounds} more while no round has both runs undisturbed. The bot is hurt more by such contention than the baseline: its ack waits on a second process (the Postgres backend) being scheduled.

${latencyTable(runs)}

${resourceTable(runs)}

Audit rows written by the bot (one per command, warm-up included): ${auditNote}. The baseline's subcommand list is read from the bot's own help answer in the first bot run (the bot adds its features' subcommands to the router; building those in the baseline would need the database) and rendered with the same \`helpBlocks\`. Response sizes ${sizes.size === 1 ? `are identical (${[...sizes][0]} bytes) for bot and baseline` : `differ between runs (${[...sizes].join(", ")} bytes): the baseline did not send exactly what the bot sends`}. Sample answer (bot): \`${bot.load.sampleBody.slice(0, 160).replace(/`/g, "'")}…\``;

    return {
      id: "ack",
      title: this.title,
      measuredAt,
      machine: "",
      rows,
      body,
    };
  },
};
