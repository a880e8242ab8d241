/**
 * Monitors from rollups: one drift run over 1,000,000 stored predictions × 20 features from the
 * raw rows (the reductions the rollups replaced) and from the rollups; a 24 h drift run as the
 * rollups behind it stand for 1 million up to 1 billion predictions; and the bytes a prediction
 * costs once its raw row is gone.
 */
import { loadavg } from "node:os";
import { sql as dsql } from "drizzle-orm";
import postgres from "postgres";
import { resultRows } from "../../src/db/client.js";
import { openPostgres } from "../../src/db/index.js";
import { rollupLayout } from "../../src/ingest/service.js";
import { createModelRegistry } from "../../src/models/index.js";
import { backfillRollups } from "../../src/rollups/backfill.js";
import type { DenseCounts } from "../../src/rollups/counts.js";
import { type AnyRollup, decodeRollup } from "../../src/rollups/format.js";
import type { CategoricalAgg, NumericAgg, RollupData } from "../../src/rollups/model.js";
import { createRollupRepository } from "../../src/rollups/repository.js";
import { systemClock } from "../../src/shared/clock.js";
import { createLogger } from "../../src/shared/logger.js";
import { createPartitionManager } from "../../src/storage/partitions.js";
import { driftBenchConfig } from "./drift-config.js";
import { envNumber } from "./env.js";
import { createBenchDatabase, median, spawnTsx, track } from "./support.js";
import type { Bench, Section, TargetRow } from "./types.js";

interface ChildResult {
  rows: number;
  durations: number[];
  maxRssMB: number;
}

async function child(args: string[], env: Record<string, string> = {}): Promise<ChildResult> {
  const p = spawnTsx("test/bench/drift-child.ts", args, env);
  const stop = track(p);
  const exit = await p.exited;
  await stop();
  if (exit.code !== 0) throw new Error(`drift-child failed:\n${p.output().slice(-3000)}`);
  return JSON.parse(p.output().trim().split("\n").pop() ?? "") as ChildResult;
}

const scaleMap = (m: Record<string, number>, f: number) => {
  for (const k in m) m[k] = Math.round((m[k] as number) * f);
};
const scaleCounts = (c: DenseCounts, f: number) => {
  c.counts = c.counts.map((x) => Math.round(x * f));
};
function scaleNumeric(a: NumericAgg, f: number) {
  a.n = Math.round(a.n * f);
  a.sum *= f;
  a.sumsq *= f;
  if (a.values) scaleMap(a.values, f);
  a.sketch.zero = Math.round(a.sketch.zero * f);
  scaleCounts(a.sketch.pos, f);
  scaleCounts(a.sketch.neg, f);
  scaleCounts(a.aligned.bins, f);
}
function scaleCategorical(a: CategoricalAgg, f: number) {
  a.n = Math.round(a.n * f);
  a.other = Math.round(a.other * f);
  scaleMap(a.values, f);
}
/** The rollup of f times as many predictions distributed as these (synthetic volume). */
function scale(d: RollupData, f: number): RollupData {
  d.rows = Math.round(d.rows * f);
  for (const k in d.numeric) scaleNumeric(d.numeric[k] as NumericAgg, f);
  for (const k in d.categorical) scaleCategorical(d.categorical[k] as CategoricalAgg, f);
  scaleNumeric(d.confidence, f);
  for (const p in d.confidence.classes) scaleMap(d.confidence.classes[p] as Record<string, number>, f);
  scaleCategorical(d.prediction, f);
  for (const p in d.labels)
    for (const l in d.labels[p]) scaleMap(d.labels[p]?.[l] as Record<string, number>, f);
  return d;
}

const s = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);
const n = (x: number) => x.toLocaleString("en-US");

export const rollupsBench: Bench = {
  name: "rollups",
  title: "Monitors from rollups",
  async run(ctx): Promise<Section> {
    const rows = envNumber("BENCH_ROLLUP_ROWS", 1_000_000, 100_000);
    const reps = envNumber("BENCH_ROLLUP_REPS", 3);
    const loadBefore = loadavg()[0]?.toFixed(1) ?? "?";
    const measuredAt = new Date().toISOString();
    const db = await createBenchDatabase();
    const logger = createLogger("warn");
    const database = openPostgres(db.url, logger, { max: 4 });
    const sql = postgres(db.url, { max: 1, onnotice: () => {} });
    try {
      await database.migrate();
      const registry = createModelRegistry(database.db, systemClock);
      await registry.sync(driftBenchConfig("1d"));
      const model = registry.get("w20");
      const now = new Date();
      const partitions = createPartitionManager(database.db, "postgres");
      // The window: `rows` predictions spread over the last 24 hours; the reference: 50,000 in the
      // hour that ended 25 hours ago.
      const DAY = 86_400_000;
      const refTo = now.getTime() - DAY - 3_600_000;
      const refFrom = refTo - 3_600_000;
      const days: number[] = [];
      for (let t = refFrom - DAY; t <= now.getTime() + DAY; t += DAY) days.push(t);
      await partitions.ensureFor(days);
      const values = Array.from({ length: 20 }, () => "(random() + random() + random() - 1.5) * 2").join(
        ", ",
      );
      const load0 = performance.now();
      const insert = (first: number, last: number, end: number, stepMs: number) =>
        sql.unsafe(
          `insert into predictions (model_id, request_id, ts, model_version, prediction, confidence, num, cat)
           select $1, 'r' || g, $2::timestamptz - make_interval(secs => (g - $3) * $5::float8 / 1000), 'v1',
             (random() > 0.9)::int::text, 0.5 + random() / 2, array[${values}], '{}'::text[]
           from generate_series($3::int, $4::int) g`,
          [model.id, new Date(end).toISOString(), first, last, stepMs],
        );
      for (let start = 1; start <= rows; start += 500_000) {
        const last = Math.min(rows, start + 499_999);
        // Row g sits (g - 1) steps before now: the chunk starts where the previous one ended.
        await insert(start, last, now.getTime() - ((start - 1) * DAY) / rows, DAY / rows);
        ctx.log(`rollups: ${n(last)} rows stored`);
      }
      await insert(rows + 1, rows + 50_000, refTo - 1, 3_600_000 / 50_000);
      await sql`vacuum analyze predictions`;
      const loadMs = performance.now() - load0;
      // The rollups of those rows, built the way an upgraded installation builds them.
      await sql`insert into maintenance_state (key, value) values ('rollup_backfill', 'pending')`;
      const b0 = performance.now();
      await backfillRollups(database.db, [model], (m) => rollupLayout(m), logger);
      const repo = createRollupRepository(database.db);
      while ((await repo.fold(20_000)) > 0) {}
      const backfillMs = performance.now() - b0;
      ctx.log(`rollups: backfilled ${n(rows + 50_000)} rows in ${s(backfillMs)}`);

      await child([db.url, "baseline", "w20", "20", `${refFrom}:${refTo}`, "1"]);
      const raw = await child([db.url, "drift", "w20", "20", "86400", String(reps)], {
        MLOPS_BENCH_SOURCE: "raw",
      });
      const rolled = await child([db.url, "drift", "w20", "20", "86400", String(reps)]);
      const ratio = median(rolled.durations) / median(raw.durations);
      ctx.log(`rollups: 1M window raw ${s(median(raw.durations))}, rollups ${s(median(rolled.durations))}`);

      // Sizes before the rescaling below: every hour rollup of the model against the raw rows.
      const [bytes] = resultRows<{ roll: number; hours: number; raw: number; raw_rows: number }>(
        await database.db.execute(
          dsql`select
            (select sum(pg_column_size(data)) from rollups where grain = 'hour' and model_id = ${model.id})::float8 as roll,
            (select count(*) from rollups where grain = 'hour' and model_id = ${model.id})::float8 as hours,
            (select sum(pg_total_relation_size(relid)) from pg_partition_tree('predictions') where isleaf)::float8 as raw,
            (select count(*) from predictions)::float8 as raw_rows`,
        ),
      );

      // The 24 h window's rollups scaled to stand for more and more predictions, each time from the
      // stored ones by a whole factor: counts stay whole, so an hour still holds exactly the rows of
      // its minutes, as it does for a real stream (the window reads the hour in progress whole).
      const dayRows = rolled.rows;
      const scaled: { total: number; ms: number; runs: number[] }[] = [];
      const stored = resultRows<{ grain: string; bucket: Date; model_version: string; data: AnyRollup }>(
        await database.db.execute(
          dsql`select grain, bucket, model_version, data from rollups
            where model_id = ${model.id} and bucket > ${new Date(now.getTime() - 25 * 3_600_000).toISOString()}::timestamptz`,
        ),
      ).map((r) => ({ ...r, data: decodeRollup(r.data) }));
      for (const target of [1e6, 1e7, 1e8, 8.64e8, 1e9]) {
        const f = Math.max(1, Math.round(target / dayRows));
        for (const r of stored) {
          const data = scale(structuredClone(r.data), f);
          await sql`update rollups set data = ${sql.json(data as never)}, rows = ${data.rows}
            where model_id = ${model.id} and grain = ${r.grain} and bucket = ${new Date(r.bucket)} and model_version = ${r.model_version}`;
        }
        const run = await child([db.url, "drift", "w20", "20", "86400", String(reps)]);
        scaled.push({ total: run.rows, ms: median(run.durations), runs: run.durations });
        ctx.log(`rollups: 24 h window of ${n(run.rows)} predictions: ${s(median(run.durations))}`);
      }
      const at864 = scaled.find((x) => x.total >= 8e8 && x.total < 9e8) ?? scaled[3];

      const rawPerRow = (bytes?.raw ?? 0) / Math.max(1, bytes?.raw_rows ?? 1);
      const perHour = (bytes?.roll ?? 0) / Math.max(1, bytes?.hours ?? 1);
      const perPrediction = (rate: number) => perHour / (rate * 3600);
      const rowsOut: TargetRow[] = [
        {
          target: "Drift over a 1,000,000-row window × 20 features from rollups: ≤ 5% of the raw-row run",
          measured: `${s(median(rolled.durations))} (${(ratio * 100).toFixed(1)}%)`,
          baseline: `raw rows ${s(median(raw.durations))}; load average ${loadBefore} at the start`,
          met: ratio <= 0.05,
          missed:
            "the run reads 24 hour rollups and up to 59 minute rollups at the window's start (format 2: an hour about 45 KB as stored and 130 KB as JSON text for 20 features, a minute about 75 KB as text) and merges them; most of its time is parsing that JSON, then Postgres reading it. What would fix it: day rollups for windows of whole days, or the window's start read from 10-minute rollups.",
        },
        {
          target: "One drift run over a 24 h window holding the rollups of 864 million predictions: ≤ 200 ms",
          measured: s(at864?.ms ?? Number.NaN),
          baseline: `1M: ${s(scaled[0]?.ms ?? Number.NaN)}`,
          met: (at864?.ms ?? Number.POSITIVE_INFINITY) <= 200,
          missed:
            "flat from 1M to 1B predictions (the run's cost does not depend on traffic, only the counts' digits grow), but the constant is too high on this machine: parsing and reading the window's rollups as above, with the same fixes.",
        },
        {
          target: "Bytes stored per prediction once its raw row is gone: ≤ 1% of the raw row",
          measured: `${perPrediction(1000).toFixed(3)} B at 1,000/s, ${perPrediction(10_000).toFixed(4)} B at 10,000/s (${((perPrediction(1000) / rawPerRow) * 100).toFixed(2)}% / ${((perPrediction(10_000) / rawPerRow) * 100).toFixed(3)}%)`,
          baseline: `raw row ${rawPerRow.toFixed(0)} B; an hour's rollup ${n(Math.round(perHour))} B`,
          met: perPrediction(1000) / rawPerRow <= 0.01,
        },
      ];
      return {
        id: "rollups",
        title: this.title,
        measuredAt,
        machine: "",
        rows: rowsOut,
        body: `${n(rows)} predictions of \`w20\` (20 numeric features) spread over the last 24 hours, and 50,000 for the reference in the hour that ended 25 hours ago, were stored in Postgres (${s(loadMs)}), then their rollups built as an upgraded installation builds them (\`src/rollups/backfill.ts\`, then folded: ${s(backfillMs)}, ${n(Math.round(((rows + 50_000) / backfillMs) * 1000))} rows/s). The reference profile came from the rollups of its hour. Each figure is one drift monitor run over the 24 h window in its own process (\`test/bench/drift-child.ts\`; \`MLOPS_BENCH_SOURCE=raw\` for the raw-row reductions the rollups replaced), median of ${reps}.\n\n**A 24 h window as the predictions behind it grow.** The window's rollups (24 hour rollups, the last the hour in progress, plus the minute rollups at its start) were rescaled to stand for N predictions with the same distribution; the run reads the same number of buckets whatever N is. (A real stream of N predictions fills somewhat more sketch buckets than a rescaled one, at most about 2,000 per feature: the aligned histogram is capped at 512 bins and the DDSketch spans ~1,100 buckets per sign from 1e-9 to 1e9.)\n\n| predictions in the window | run time (median) | runs |\n|---|---|---|\n${scaled
          .map((x) => `| ${n(x.total)} | ${s(x.ms)} | ${x.runs.map((r) => s(r)).join(", ")} |`)
          .join(
            "\n",
          )}\n\n**Bytes per prediction.** An hour's rollup of this model takes ${n(Math.round(perHour))} bytes whatever the traffic (its size is bounded by bins, not rows); a raw row takes ${rawPerRow.toFixed(0)} bytes with its share of the indexes. At this bench's ${(rows / 86_400).toFixed(1)} predictions/s an hour's rollup costs ${perPrediction(rows / 86_400).toFixed(1)} B per prediction; at 1,000/s ${perPrediction(1000).toFixed(3)} B; at 10,000/s ${perPrediction(10_000).toFixed(4)} B.\n`,
      };
    } finally {
      await sql.end({ timeout: 2 });
      await database.close();
      await db.drop();
    }
  },
};
