/**
 * Drift over large windows: a run of the drift monitor (every feature and the prediction against a
 * stored reference profile, reduced in SQL) over 1,000,000 rows × 20 features and over
 * 356,000 rows × 50 features (the shape Evidently users report at about 3 minutes), and the peak
 * RSS of the process running it as the window grows from 100k to 1M to 5M rows.
 */
import { loadavg } from "node:os";
import postgres from "postgres";
import { openPostgres } from "../../src/db/index.js";
import { createModelRegistry } from "../../src/models/index.js";
import { systemClock } from "../../src/shared/clock.js";
import { createLogger } from "../../src/shared/logger.js";
import { driftBenchConfig } from "./drift-config.js";
import { envNumber } from "./env.js";
import { createBenchDatabase, median, spawnTsx, track } from "./support.js";
import type { Bench, Section, TargetRow } from "./types.js";

interface ChildResult {
  rows: number;
  status?: string;
  drifted?: string[];
  durations: number[];
  maxRssMB: number;
}

async function child(args: string[]): Promise<ChildResult> {
  // The raw-row reductions: since rollups, monitors read those instead (see the rollups bench), and
  // an uploaded reference file is still reduced this way.
  const p = spawnTsx("test/bench/drift-child.ts", args, { MLOPS_BENCH_SOURCE: "raw" });
  const stop = track(p);
  const exit = await p.exited;
  await stop();
  if (exit.code !== 0)
    throw new Error(`drift-child ${args.slice(1).join(" ")} failed:\n${p.output().slice(-3000)}`);
  const line = p.output().trim().split("\n").pop() ?? "";
  return JSON.parse(line) as ChildResult;
}

/** Inserts `count` rows for the model, one a second going back from `endSec` seconds before `now`. */
async function fill(
  sql: postgres.Sql,
  modelId: number,
  features: number,
  now: Date,
  endSec: number,
  count: number,
  prefix: string,
  log: (m: string) => void,
) {
  const values = Array.from({ length: features }, () => "(random() + random() + random() - 1.5) * 2").join(
    ", ",
  );
  const step = 500_000;
  for (let start = 1; start <= count; start += step) {
    const end = Math.min(count, start + step - 1);
    await sql.unsafe(
      `insert into predictions (model_id, request_id, ts, model_version, prediction, confidence, num, cat)
       select $1, $2 || g, $3::timestamptz - make_interval(secs => $4 + g), 'v1', (random() > 0.9)::int::text,
         0.5 + random() / 2, array[${values}], '{}'::text[]
       from generate_series($5::int, $6::int) g`,
      [modelId, prefix, now.toISOString(), endSec, start, end],
    );
    if (count > step)
      log(`drift: ${prefix} ${end.toLocaleString("en-US")} / ${count.toLocaleString("en-US")} rows`);
  }
}

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** The marginal cost per million rows, from the largest window's run. */
function perMillion(runs: { rows: number; durations: number[] }[]): string {
  const largest = runs.reduce((a, b) => (b.rows > a.rows ? b : a));
  return s((median(largest.durations) / Math.max(1, largest.rows)) * 1_000_000);
}

export const driftBench: Bench = {
  name: "drift",
  title: "Drift over large windows",
  async run(ctx): Promise<Section> {
    const maxRows = envNumber("BENCH_DRIFT_MAX_ROWS", 5_000_000, 1_000_000);
    const loadBefore = loadavg()[0]?.toFixed(1) ?? "?";
    const reps = envNumber("BENCH_DRIFT_REPS", 3);
    const measuredAt = new Date().toISOString();
    const db = await createBenchDatabase();
    const logger = createLogger("warn");
    const database = openPostgres(db.url, logger, { max: 2 });
    const sql = postgres(db.url, { max: 1, onnotice: () => {} });
    try {
      await database.migrate();
      const registry = createModelRegistry(database.db, systemClock);
      await registry.sync(driftBenchConfig("1d"));
      const w20 = registry.get("w20").id;
      const w50 = registry.get("w50").id;
      const now = new Date();
      const loadStart = performance.now();
      // Windows end one second ago; references lie before the largest window.
      await fill(sql, w20, 20, now, 0, maxRows, "w", ctx.log);
      await fill(sql, w20, 20, now, maxRows + 100, 50_000, "r", ctx.log);
      await fill(sql, w50, 50, now, 0, 356_000, "w", ctx.log);
      await fill(sql, w50, 50, now, 400_000, 30_000, "r", ctx.log);
      await sql`vacuum analyze predictions`;
      ctx.log(`drift: loaded in ${s(performance.now() - loadStart)}`);
      const refRange = (endSec: number, count: number) =>
        `${now.getTime() - (endSec + count + 1) * 1000}:${now.getTime() - endSec * 1000}`;
      const b20 = await child([db.url, "baseline", "w20", "20", refRange(maxRows + 100, 50_000), "1"]);
      const b50 = await child([db.url, "baseline", "w50", "50", refRange(400_000, 30_000), "1"]);

      const run = async (slug: string, windowSec: number, n: number) => {
        const r = await child([
          db.url,
          "drift",
          slug,
          slug === "w20" ? "20" : "50",
          String(windowSec),
          String(n),
        ]);
        ctx.log(
          `drift: ${slug} ${r.rows.toLocaleString("en-US")} rows: ${r.durations.map((d) => s(d)).join(", ")}; peak RSS ${r.maxRssMB.toFixed(0)} MB`,
        );
        return r;
      };
      const m1 = await run("w20", 1_000_000, reps);
      const e356 = await run("w50", 356_000, reps);
      const k10 = await run("w20", 10_000, reps);
      const k100 = await run("w20", 100_000, reps);
      const k500 = await run("w20", 500_000, 1);
      const mMax = await run("w20", maxRows, 1);
      const rss = [k100, m1, mMax];
      const growth = [k10, k100, k500, m1, mMax];
      const t1 = median(m1.durations);
      const t356 = median(e356.durations);
      const flat = Math.max(...rss.map((r) => r.maxRssMB)) - Math.min(...rss.map((r) => r.maxRssMB));
      const rows: TargetRow[] = [
        {
          target: "Drift over a 1,000,000-row window × 20 features: <= 2 s",
          measured: s(t1),
          baseline: `load average ${loadBefore} at the start`,
          met: t1 <= 2000,
          missed: `a run reads every raw row of the window once (${perMillion(growth)} per million rows × 20 features, linear in the window, see the growth table); Postgres parallel workers help only as far as the ${ctx.machine.cores} cores allow. What would fix it: keep hourly per-feature histograms on the reference's bin edges, updated at ingest or by a small rollup job, so a run over a day's window reads 24 × 20 bucket rows instead of a million predictions; the statistics already work from counts, so only the source of the counts changes.`,
        },
        {
          target: "Drift over 356,000 rows × 50 features (Evidently users report ~3 min): <= 3 s",
          measured: s(t356),
          baseline: "~180 s reported for Evidently",
          met: t356 <= 3000,
        },
        {
          target: "Memory flat as the window grows (peak RSS at 100k / 1M / 5M rows)",
          measured: rss.map((r) => `${r.maxRssMB.toFixed(0)} MB`).join(" / "),
          baseline: `spread ${flat.toFixed(0)} MB`,
          met: flat <= 50,
        },
      ];
      return {
        id: "drift",
        title: this.title,
        measuredAt,
        machine: "",
        rows,
        body: `This bench measures the raw-row reductions, which monitors used before rollups and an uploaded reference file still uses; for monitors as they run now, see [Monitors from rollups](#monitors-from-rollups). Rows were generated in Postgres (one a second, features approximately normal), ${maxRows.toLocaleString("en-US")} + 50,000 for \`w20\` (20 numeric features) and 356,000 + 30,000 for \`w50\` (50). The reference profiles were built once from the older rows (${s(b20.durations[0] ?? 0)} for 50,000 × 20, ${s(b50.durations[0] ?? 0)} for 30,000 × 50: percentiles, histograms, category counts, chunks). Each figure is one drift monitor run as the bot does it — one pass over the window in Postgres that buckets every column (\`width_bucket\` on the reference's edges for numeric columns, the reference's categories for the prediction) and aggregates in the parallel workers, then every statistic computed from those counts — in its own process (\`test/bench/drift-child.ts\`), median of ${reps} runs; peak RSS is that process's \`maxRSS\` (Node and tsx included). Methods chosen by the auto rule (reference n > 1,000 → normed Wasserstein for every column).\n\n| window | rows | runs (s) | peak RSS |\n|---|---|---|---|\n${[
          m1,
          e356,
          ...rss.filter((r) => r !== m1),
        ]
          .map(
            (r, i) =>
              `| ${i === 1 ? "w50 × 50" : "w20 × 20"} | ${r.rows.toLocaleString("en-US")} | ${r.durations.map((d) => (d / 1000).toFixed(2)).join(", ")} | ${r.maxRssMB.toFixed(0)} MB |`,
          )
          .join(
            "\n",
          )}\n\n**How the cost of one monitor run grows with the window** (w20: 20 numeric features plus the prediction, median of the runs listed; the fixed part is the process's own query planning and the statistics over the counts):\n\n| window rows | run time | per 100,000 rows | peak RSS |\n|---|---|---|---|\n${growth
          .map(
            (r) =>
              `| ${r.rows.toLocaleString("en-US")} | ${s(median(r.durations))} | ${((median(r.durations) / Math.max(1, r.rows)) * 100_000).toFixed(0)} ms | ${r.maxRssMB.toFixed(0)} MB |`,
          )
          .join("\n")}\n`,
      };
    } finally {
      await sql.end({ timeout: 2 });
      await database.close();
      await db.drop();
    }
  },
};
