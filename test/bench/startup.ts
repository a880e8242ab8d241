import { cpuWindow, type StartCpu } from "./cpu.js";
import { envNumber, randomSecret, startBenchSandbox } from "./env.js";
import { startServer } from "./servers.js";
import {
  freePort,
  median,
  ms,
  overrideNote,
  pollUntil,
  spawnBotProcess,
  stopProcess,
  tempDir,
  track,
} from "./support.js";
import type { Bench, Section, TargetRow } from "./types.js";

const READY_TARGET_MS = 3_000;
/** A start during which the rest of the machine used more than this share of one core is "disturbed". */
const DISTURBED_PCT = 25;

interface Start {
  what: string;
  readyMs: number;
  cpu: StartCpu;
  exit: string;
}

function exitText(e: { code: number | null; signal: NodeJS.Signals | null; killed: boolean }): string {
  return e.killed ? "killed after 10 s" : e.code === 0 ? "clean" : `code ${e.code}, signal ${e.signal}`;
}

function otherPct(s: Start): number {
  return (s.cpu.otherMs / s.cpu.wallMs) * 100;
}

/** Spawn → `/readyz` 200 of a sandbox-mode bot on a PGlite data directory; then SIGTERM and wait. */
async function pgliteStart(what: string, dataDir: string): Promise<Start> {
  const port = await freePort();
  const window = cpuWindow();
  const spawnedAt = performance.now();
  const proc = spawnBotProcess({
    PORT: String(port),
    HOST: "127.0.0.1",
    MLOPS_DATA_DIR: dataDir,
    LOG_LEVEL: "warn",
  });
  const stopTracked = track(proc);
  try {
    const readyAt = await pollUntil(`http://127.0.0.1:${port}/readyz`, (s) => s === 200, proc, {
      timeoutMs: 60_000,
    });
    const cpu = window.end(proc.child.pid as number);
    return { what, readyMs: readyAt - spawnedAt, cpu, exit: exitText(await stopProcess(proc)) };
  } finally {
    await stopTracked();
  }
}

export const startupBench: Bench = {
  name: "startup",
  title: "Start to /readyz 200",
  async run(ctx): Promise<Section> {
    const runs = envNumber("BENCH_START_RUNS", 3);
    const measuredAt = new Date().toISOString();
    const sandbox = await startBenchSandbox();
    const common = { signingSecret: randomSecret(), apiUrl: sandbox.apiUrl };

    const pg: Start[] = [];
    const bare: Start[] = [];
    const maxRuns = runs + envNumber("BENCH_START_EXTRA_RUNS", 3, 0);
    const quiet = (r: Start) => otherPct(r) <= DISTURBED_PCT;
    for (let i = 1; i <= runs || (i <= maxRuns && pg.filter(quiet).length < runs); i++) {
      if (i > runs) ctx.log(`startup: fewer than ${runs} undisturbed starts; extra run ${i}`);
      const bot = await startServer("bot", common);
      pg.push({
        what: `Postgres, fresh DB, run ${i}`,
        readyMs: bot.readyMs,
        cpu: bot.startCpu,
        exit: exitText(await bot.stop()),
      });
      ctx.log(`startup: Postgres run ${i}: ${ms(bot.readyMs)}`);
      const b = await startServer("bare", common);
      bare.push({
        what: `bare Bolt baseline, run ${i}`,
        readyMs: b.readyMs,
        cpu: b.startCpu,
        exit: exitText(await b.stop()),
      });
      ctx.log(`startup: bare Bolt run ${i}: ${ms(b.readyMs)}`);
    }

    const dir = tempDir("mlops-bench-pglite-");
    const first = await pgliteStart("PGlite, new data directory", dir.path);
    ctx.log(`startup: PGlite first start: ${ms(first.readyMs)}`);
    const second = await pgliteStart("PGlite, same directory again", dir.path);
    ctx.log(`startup: PGlite second start: ${ms(second.readyMs)}`);
    await dir.remove();

    // The target is judged on the undisturbed starts when there are any; all are listed below.
    const judged = pg.some(quiet) ? pg.filter(quiet) : pg;
    const pgTimes = judged.map((r) => r.readyMs);
    const bareTimes = bare.map((r) => r.readyMs);
    const pgMax = Math.max(...pgTimes);
    const disturbedRuns = pg.filter((r) => otherPct(r) > DISTURBED_PCT).length;
    const bareText = `bare Bolt spawn → listening: median ${ms(median(bareTimes))}`;
    const rows: TargetRow[] = [
      {
        target: `Start → /readyz 200 on Postgres (fresh empty DB) ≤ ${READY_TARGET_MS / 1000} s, every run`,
        measured: `median ${ms(median(pgTimes))}, max ${ms(pgMax)} (${judged.length === pg.length ? `all ${pg.length} runs` : `the ${judged.length} undisturbed of ${pg.length} runs`}${disturbedRuns && judged.length === pg.length ? `, ${disturbedRuns} disturbed` : ""})`,
        baseline: bareText,
        met: pgMax <= READY_TARGET_MS,
      },
      {
        target: "Start → /readyz 200 on PGlite, new data directory (reported only)",
        measured: ms(first.readyMs),
        baseline: bareText,
        met: null,
      },
      {
        target: "Start → /readyz 200 on PGlite, same directory again (reported only)",
        measured: ms(second.readyMs),
        baseline: bareText,
        met: null,
      },
    ];

    const line = (s: Start) =>
      `| ${s.what}${otherPct(s) > DISTURBED_PCT ? " (disturbed)" : ""} | ${ms(s.readyMs)} | ${ms(s.cpu.processMs)} | ${ms(s.cpu.otherMs)} (${otherPct(s).toFixed(0)}% of a core) | ${s.exit} |`;
    const table = [
      "| start | spawn → ready | CPU of the process | CPU of everything else | stopped on SIGTERM |",
      "|---|---|---|---|---|",
      ...[...pg, ...bare, first, second].map(line),
    ].join("\n");

    const body = `${overrideNote()}**How.** Time from \`spawn()\` of the compiled bot \`node dist/main.js\` (no shell, as \`npm start\` runs it after its incremental build) to the first \`GET /readyz\` answering 200, polling every 20 ms on a new connection each time (so figures are up to ~20 ms late). *Postgres*: HTTP mode as in production (\`SLACK_BOT_TOKEN\`, \`SLACK_SIGNING_SECRET\`, \`SLACK_API_URL\` = a standalone sandbox Web API for the startup \`auth.test\`), \`DATABASE_URL\` = a database created empty just before each run, so every start applies all migrations; ${runs} runs (up to ${maxRuns - runs} more while fewer than ${runs} are undisturbed, see below); the target counts the slowest undisturbed run (the slowest of all when every run was disturbed). *PGlite*: no Slack credentials (sandbox mode) and no \`DATABASE_URL\`; first start on a new temporary \`MLOPS_DATA_DIR\` (creates the embedded cluster and migrates), then a second start on the same directory. Every process is stopped with SIGTERM and waited for before the next starts. The *baseline* is the bare Bolt app of the ack bench, spawned the same way and timed to its first HTTP answer: the cost of Node + tsx + Bolt alone.

CPU columns (from \`/proc\`, between spawn and ready): the process itself (all threads) and the rest of the machine's busy time (Postgres applying the migrations included; it is small). A start is *disturbed* when the rest used more than ${DISTURBED_PCT}% of a core: starting is CPU-bound, so on ${ctx.machine.cores} cores other work on the machine lengthens it directly.

${table}${
  [...pg, ...bare, first, second].some((r) => r.exit.includes("signal SIGTERM"))
    ? "\n\n*signal SIGTERM* in the last column: the process died of the signal itself instead of shutting down. The bench sends SIGTERM as soon as `/readyz` answers 200, and `/readyz` can answer 200 before `startBot` has returned (the server listens before the startup `auth.test` and the features' start), while `main.ts` installs its SIGTERM handler only after it returns. Sent a few seconds later, the same SIGTERM ends in a clean exit."
    : ""
}`;

    return { id: "startup", title: this.title, measuredAt, machine: "", rows, body };
  },
};
