/**
 * `npm run bench [-- <name>…]`: runs the benches in order, prints their tables and rewrites
 * BENCHMARKS.md (only the named benches' sections when names are given; see the file's header).
 *
 * A new bench (ingest rate, drift, alert latency, …) is a module exporting a `Bench`
 * (`{ name, title, run(ctx): Promise<Section> }`) added to BENCHES below.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ackBench } from "./ack.js";
import { alertFloodBench } from "./alert-flood.js";
import { alertGroupingBench } from "./alert-grouping.js";
import { alertLatencyBench } from "./alert-latency.js";
import { chartsBench } from "./charts.js";
import { driftBench } from "./drift.js";
import { embeddingIngestBench } from "./embedding-ingest.js";
import { ingestBench } from "./ingest.js";
import { machineInfo, machineLine } from "./machine.js";
import { memoryBench } from "./memory.js";
import { multivariateBench } from "./multivariate.js";
import { parseSections, renderFile, renderSection, type StoredSection, targetTable } from "./report.js";
import { rollupsBench } from "./rollups.js";
import { segmentsBench } from "./segments.js";
import { startupBench } from "./startup.js";
import { ADMIN_DATABASE_URL, dropStaleBenchDatabases, ROOT, runCleanups } from "./support.js";
import { sustainedBench } from "./sustained.js";
import type { Bench, BenchContext, Section } from "./types.js";

/** In the order of the targets; sections appear in BENCHMARKS.md in this order. */
const BENCHES: Bench[] = [
  ackBench,
  startupBench,
  memoryBench,
  ingestBench,
  driftBench,
  multivariateBench,
  embeddingIngestBench,
  rollupsBench,
  segmentsBench,
  sustainedBench,
  alertLatencyBench,
  alertFloodBench,
  alertGroupingBench,
  chartsBench,
];

const OUTPUT = join(ROOT, "BENCHMARKS.md");

function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

async function main(): Promise<number> {
  const names = process.argv.slice(2).filter((a) => a !== "--");
  const unknown = names.filter((n) => !BENCHES.some((b) => b.name === n));
  if (unknown.length) {
    process.stderr.write(
      `unknown bench ${unknown.join(", ")}; known: ${BENCHES.map((b) => b.name).join(", ")}\n`,
    );
    return 2;
  }
  const selected = names.length ? BENCHES.filter((b) => names.includes(b.name)) : BENCHES;

  log("building the bot (npm run build) so it runs as npm start runs it");
  const build = spawnSync(
    process.execPath,
    [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"],
    {
      cwd: ROOT,
      stdio: "inherit",
    },
  );
  if (build.status !== 0) {
    process.stderr.write("the build failed; fix it before benchmarking\n");
    return 1;
  }

  const stale = await dropStaleBenchDatabases();
  if (stale.length) log(`dropped ${stale.length} database(s) left by an earlier, killed bench run`);
  const machine = await machineInfo(ADMIN_DATABASE_URL);
  log(`machine: ${machineLine(machine)}`);
  const ctx: BenchContext = { machine, log };

  const fresh: Section[] = [];
  let failed = false;
  for (const bench of selected) {
    const started = performance.now();
    log(`${bench.name}: starting`);
    let section: Section;
    try {
      section = await bench.run(ctx);
    } catch (err) {
      failed = true;
      log(`${bench.name}: FAILED: ${(err as Error)?.stack ?? String(err)}`);
      section = {
        id: bench.name,
        title: bench.title,
        measuredAt: new Date().toISOString(),
        machine: "",
        rows: [{ target: bench.title, measured: "bench failed", baseline: "—", met: false }],
        body: `The bench failed:\n\n\`\`\`\n${String((err as Error)?.message ?? err).slice(0, 3000)}\n\`\`\``,
      };
    } finally {
      await runCleanups();
    }
    section.machine ||= machineLine(machine);
    fresh.push(section);
    log(`${bench.name}: done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    process.stdout.write(`\n## ${section.title}\n\n${targetTable(section.rows)}\n`);
  }

  // Merge: this run's sections replace theirs; the others are kept (only when a subset was asked for).
  const previous = names.length && existsSync(OUTPUT) ? parseSections(readFileSync(OUTPUT, "utf8")) : [];
  const rendered = new Map<string, StoredSection>(previous.map((s) => [s.id, s]));
  for (const s of fresh) rendered.set(s.id, renderSection(s));
  const order = [
    ...BENCHES.map((b) => b.name),
    ...previous.map((s) => s.id).filter((id) => !BENCHES.some((b) => b.name === id)),
  ];
  const sections = order.flatMap((id) => {
    const s = rendered.get(id);
    return s ? [s] : [];
  });
  writeFileSync(
    OUTPUT,
    renderFile({
      writtenAt: new Date().toISOString(),
      ran: selected.map((b) => b.name),
      all: BENCHES.map((b) => b.name),
      machine,
      sections,
    }),
  );
  log(`wrote ${OUTPUT}`);
  return failed ? 1 : 0;
}

let interrupted = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    log(`${signal}: stopping the processes and dropping the databases started so far…`);
    runCleanups().finally(() => process.exit(130));
  });
}

main().then(
  async (code) => {
    await runCleanups();
    process.exit(code);
  },
  async (err: unknown) => {
    log(`failed: ${(err as Error)?.stack ?? String(err)}`);
    await runCleanups();
    process.exit(1);
  },
);
