import { envNumber, randomSecret, startBenchSandbox } from "./env.js";
import { type ServerKind, startServer } from "./servers.js";
import {
  freePort,
  mb,
  overrideNote,
  pollUntil,
  readRss,
  sleep,
  spawnBotProcess,
  spawnTsx,
  stopProcess,
  tempDir,
  track,
} from "./support.js";
import type { Bench, Section, TargetRow } from "./types.js";

const RSS_TARGET_MB = 150;

interface Sample {
  what: string;
  atReadyMB: number;
  idleMB: number;
  peakMB: number;
}

export const memoryBench: Bench = {
  name: "memory",
  title: "Idle memory (RSS)",
  async run(ctx): Promise<Section> {
    const idleMs = envNumber("BENCH_IDLE_MS", 5_000);
    const measuredAt = new Date().toISOString();
    const sandbox = await startBenchSandbox();
    const common = { signingSecret: randomSecret(), apiUrl: sandbox.apiUrl };

    const samples: Sample[] = [];
    const measureServer = async (kind: ServerKind, what: string) => {
      const server = await startServer(kind, common);
      try {
        const atReady = readRss(server.pid);
        await sleep(idleMs);
        const idle = readRss(server.pid);
        samples.push({ what, atReadyMB: atReady.rssMB, idleMB: idle.rssMB, peakMB: idle.peakMB });
        ctx.log(`memory: ${what}: ${mb(idle.rssMB)} idle`);
      } finally {
        await server.stop();
      }
    };
    await measureServer("bot", "mlops-bot, HTTP mode, Postgres");
    await measureServer("bare", "bare Bolt baseline");

    // Sandbox mode on PGlite: what `npm start` with no settings uses.
    const dir = tempDir("mlops-bench-rss-");
    const port = await freePort();
    const proc = spawnBotProcess({
      PORT: String(port),
      HOST: "127.0.0.1",
      MLOPS_DATA_DIR: dir.path,
      LOG_LEVEL: "warn",
    });
    const stopTracked = track(proc);
    try {
      await pollUntil(`http://127.0.0.1:${port}/readyz`, (s) => s === 200, proc, { timeoutMs: 60_000 });
      const pid = proc.child.pid as number;
      const atReady = readRss(pid);
      await sleep(idleMs);
      const idle = readRss(pid);
      samples.push({
        what: "mlops-bot, sandbox mode, PGlite",
        atReadyMB: atReady.rssMB,
        idleMB: idle.rssMB,
        peakMB: idle.peakMB,
      });
      ctx.log(`memory: PGlite: ${mb(idle.rssMB)} idle`);
      await stopProcess(proc);
    } finally {
      await stopTracked();
      await dir.remove();
    }

    // What Node and the tsx loader cost before any of our modules: an empty script, idle.
    for (const [what, tsx] of [
      ["node, empty script", false],
      ["node --import tsx, empty script", true],
    ] as const) {
      const idleProc = spawnTsx("-e", ["setInterval(() => {}, 1 << 30)"], {}, { tsx });
      const stopIdle = track(idleProc);
      try {
        await sleep(Math.min(idleMs, 3_000));
        const rss = readRss(idleProc.child.pid as number);
        samples.push({ what, atReadyMB: Number.NaN, idleMB: rss.rssMB, peakMB: rss.peakMB });
      } finally {
        await stopIdle();
      }
    }

    const [bot, bare, pglite, node, nodeTsx] = samples as [Sample, Sample, Sample, Sample, Sample];
    const rows: TargetRow[] = [
      {
        target: `Idle RSS ${idleMs / 1000} s after ready ≤ ${RSS_TARGET_MB} MB (HTTP mode, Postgres)`,
        measured: mb(bot.idleMB),
        baseline: `bare Bolt ${mb(bare.idleMB)}`,
        met: bot.idleMB <= RSS_TARGET_MB,
      },
      {
        target: `Idle RSS ${idleMs / 1000} s after ready, sandbox mode on PGlite (reported only)`,
        measured: mb(pglite.idleMB),
        baseline: `bare Bolt ${mb(bare.idleMB)}`,
        met: null,
      },
    ];
    const table = [
      "| process | RSS at ready | RSS idle | peak RSS (VmHWM) |",
      "|---|---|---|---|",
      ...samples.map(
        (s) =>
          `| ${s.what} | ${Number.isNaN(s.atReadyMB) ? "—" : mb(s.atReadyMB)} | ${mb(s.idleMB)} | ${mb(s.peakMB)} |`,
      ),
    ].join("\n");
    const body = `${overrideNote()}**How.** \`VmRSS\` (and \`VmHWM\`, the peak) from \`/proc/<pid>/status\` of the process running the compiled bot (\`node dist/main.js\`, as \`npm start\` runs it), read when \`/readyz\` first answers 200 and again after ${idleMs / 1000} s with no requests. The bot runs as in the ack bench (HTTP mode, fresh Postgres database, \`LOG_LEVEL=warn\`); the baseline is the same bare Bolt app (Node + tsx + Bolt; it is TypeScript run through tsx, so its figure includes the loader's cost that the compiled bot does not pay). The last two rows are an empty script under plain \`node\` and under \`node --import tsx\`, idle for ${Math.min(idleMs, 3_000) / 1000} s: the fixed cost of Node (${mb(node.idleMB)}) and of tsx's loader, which runs on a thread of its own (+${mb(nodeTsx.idleMB - node.idleMB)}; it grows with the modules loaded through it). The RSS right after the load run is in the ack section. Each process is stopped before the next starts.

${table}`;

    return { id: "memory", title: this.title, measuredAt, machine: "", rows, body };
  },
};
