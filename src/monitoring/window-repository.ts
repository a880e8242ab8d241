import { type SQL, sql } from "drizzle-orm";
import { type Db, resultRows } from "../db/client.js";
import type { RegressionMoments } from "./stats/index.js";

/**
 * Window reductions: every query here returns aggregates (histogram buckets, category counts,
 * confusion cells), never the window's rows, so memory does not grow with the window. Read-only
 * over `predictions` (a time window) and `reference_samples` (a staged upload).
 */

/**
 * One segment of a window (`country=DE`): the rows whose categorical feature in `slot` (1-based)
 * is `value`; for the `(other)` segment, those whose value is set and not one of `kept`.
 */
export interface SegmentFilter {
  key: string;
  slot: number;
  value: string;
  kept?: readonly string[];
}

/**
 * One class cell of a window (multiclass CBPE): rows whose p_k of class `cls` falls in `bin`
 * (⌊p_k × 1000⌋, 0…1000), that predicted `cls` or not, with Σp_k, and how many of them are
 * labelled and truly `cls`; per chunk of the rows with probabilities, by time.
 */
export interface ClassCellRow {
  chunk: number;
  cls: string;
  bin: number;
  predicted: boolean;
  n: number;
  sp: number;
  labelled: number;
  pos: number;
}

/** Rows a reduction reads: a model's predictions in [from, to) (of one segment), or a staged reference upload. */
export type WindowSource =
  | { kind: "window"; modelId: number; from: Date; to: Date; version?: string; segment?: SegmentFilter }
  | { kind: "upload"; uploadId: number };

function segmentSql(f: SegmentFilter | undefined): SQL {
  if (!f) return sql``;
  const col = sql.raw(`cat[${Math.trunc(f.slot)}]`);
  return f.kept
    ? sql` and ${col} is not null and not (${col} = any(${textArray(f.kept)}::text[]))`
    : sql` and ${col} = ${f.value}`;
}

function from(src: WindowSource): SQL {
  if (src.kind === "upload") return sql`reference_samples where upload_id = ${src.uploadId}`;
  const version = src.version ? sql` and model_version = ${src.version}` : sql``;
  return sql`predictions where model_id = ${src.modelId} and ts >= ${src.from.toISOString()}::timestamptz and ts < ${src.to.toISOString()}::timestamptz${version}${segmentSql(src.segment)}`;
}

/**
 * Which column of a prediction a reduction reads: a numeric or categorical feature (by slot and
 * name), the confidence, or the prediction itself (parsed as a number for regression models).
 * Each window repository maps it to what it stores: an SQL expression over raw rows, or an
 * aggregate of a rollup.
 */
export type ColumnRef =
  | { kind: "num"; slot: number; name: string }
  | { kind: "cat"; slot: number; name: string }
  | { kind: "confidence" }
  | { kind: "prediction"; numeric: boolean }
  | { kind: "residual" };

/** The pattern of a prediction or label that reads as a number (as isNumberText in src/rollups/model.ts). */
const NUMBER_RE = "^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?$";
const numberOf = (column: "prediction" | "label"): SQL =>
  sql`(case when ${sql.raw(column)} ~ ${sql.raw(`'${NUMBER_RE}'`)} then ${sql.raw(column)}::float8 end)`;

/**
 * A column to reduce and, for histograms, either its bin edges (numeric) or its known categories
 * (bucket i is categories[i], bucket K every other value).
 */
export interface NumericColumn {
  key: number;
  ref: ColumnRef;
  edges?: readonly number[];
  categories?: readonly string[];
}

/** The SQL expression of a column over a raw row. */
export function refSql(ref: ColumnRef): SQL {
  switch (ref.kind) {
    case "num":
      return sql.raw(`num[${Math.trunc(ref.slot)}]`);
    case "cat":
      return sql.raw(`cat[${Math.trunc(ref.slot)}]`);
    case "confidence":
      return sql`confidence`;
    case "prediction":
      return ref.numeric ? numberOf("prediction") : sql`prediction`;
    case "residual":
      // label − prediction of a labelled row (null when either is not a number), regression models.
      return sql`(${numberOf("label")} - ${numberOf("prediction")})`;
  }
}

/** Counts and sums per bucket: bucket 0 is below the first edge, bucket `edges.length` at or above the last. */
export interface Histogram {
  counts: number[];
  sums: number[];
  missing: number;
}

/** Encodes (column, bucket) in one int so a single GROUP BY reduces every column in one pass. */
const BUCKETS_PER_KEY = 1000;
const MISSING_BUCKET = BUCKETS_PER_KEY - 1;

function floatArray(values: readonly number[]): string {
  return `{${values.map((v) => (Number.isFinite(v) ? String(v) : "NaN")).join(",")}}`;
}

function textArray(values: readonly string[]): string {
  return `{${values.map((v) => `"${v.replace(/["\\]/g, "\\$&")}"`).join(",")}}`;
}

function bucketCount(c: NumericColumn): number {
  return c.categories ? c.categories.length + 1 : (c.edges?.length ?? 0) + 1;
}

function bucketExpr(c: NumericColumn): SQL {
  const base = sql.raw(String(c.key * BUCKETS_PER_KEY));
  const expr = refSql(c.ref);
  const missing = sql.raw(String(MISSING_BUCKET));
  if (c.categories) {
    const other = sql.raw(String(c.categories.length));
    return sql`${base} + case when ${expr} is null then ${missing} else coalesce(array_position(${textArray(c.categories)}::text[], ${expr}::text) - 1, ${other}) end`;
  }
  return sql`${base} + coalesce(width_bucket(${expr}, ${floatArray(c.edges ?? [])}::float8[]), ${missing})`;
}

/** The value of `p(positive class)` for binary rows: confidence of the predicted class, flipped for class 0. */
export function positiveScoreExpr(positive: string): SQL {
  return sql`(case when prediction = ${positive} then confidence else 1 - confidence end)`;
}

/**
 * The window reductions over raw rows. Monitors read rollups (src/rollups/window.ts); this serves
 * staged reference uploads and is the exact reference the rollup reductions are tested against.
 */
export function createRawWindowRepository(db: Db) {
  async function rows<T>(query: SQL): Promise<T[]> {
    return resultRows<T>(await db.execute(query));
  }
  return {
    /** Row count, labelled rows, rows under `threshold` confidence, and the time span. */
    async summary(src: WindowSource, threshold: number) {
      const [r] = await rows<{
        n: number;
        labelled: number;
        low: number;
        with_conf: number;
        first: string | null;
        last: string | null;
      }>(sql`
        select count(*)::int as n, count(label)::int as labelled,
          count(*) filter (where confidence < ${threshold})::int as low,
          count(confidence)::int as with_conf,
          min(ts)::text as first, max(ts)::text as last
        from ${from(src)}`);
      return {
        rows: r?.n ?? 0,
        labelled: r?.labelled ?? 0,
        lowConfidence: r?.low ?? 0,
        withConfidence: r?.with_conf ?? 0,
        first: r?.first ? new Date(r.first) : null,
        last: r?.last ? new Date(r.last) : null,
      };
    },

    /** Whether the model ever had a prediction stored. */
    async hasAny(modelId: number): Promise<boolean> {
      const [r] = await rows<{ any: boolean }>(
        sql`select exists (select 1 from predictions where model_id = ${modelId}) as any`,
      );
      return r?.any === true;
    },

    /** One pass over the window: a histogram per column on that column's edges. */
    async histograms(src: WindowSource, columns: readonly NumericColumn[]): Promise<Map<number, Histogram>> {
      const out = new Map<number, Histogram>();
      if (columns.length === 0) return out;
      for (const c of columns) {
        const n = bucketCount(c);
        if (n >= MISSING_BUCKET) throw new Error(`too many bins for column ${c.key}`);
        out.set(c.key, { counts: new Array(n).fill(0), sums: new Array(n).fill(0), missing: 0 });
      }
      const keys = sql.join(columns.map(bucketExpr), sql`, `);
      const values = sql.join(
        columns.map((c) => (c.categories ? sql`null::float8` : sql`${refSql(c.ref)}::float8`)),
        sql`, `,
      );
      // Why the planner setting: it underestimates the rows the unnest produces (20 per window row
      // for 20 columns) and then ships them all through Gather to aggregate in the leader, which
      // costs several times the scan. A high per-tuple transfer cost makes it aggregate in each
      // worker first (Partial HashAggregate), so only a few thousand groups cross over.
      const result = await db.transaction(async (tx) => {
        await tx.execute(sql`set local parallel_tuple_cost = 10`);
        return resultRows<{ k: number; c: number; s: number | null }>(
          await tx.execute(sql`
            select k, count(*)::float8 as c, sum(v) as s
            from (select unnest(array[${keys}]) as k, unnest(array[${values}]) as v from ${from(src)}) t
            group by k`),
        );
      });
      for (const r of result) {
        const key = Math.floor(r.k / BUCKETS_PER_KEY);
        const bucket = r.k % BUCKETS_PER_KEY;
        const h = out.get(key);
        if (!h) continue;
        if (bucket === MISSING_BUCKET) h.missing += Number(r.c);
        else {
          h.counts[bucket] = Number(r.c);
          h.sums[bucket] = Number(r.s ?? 0);
        }
      }
      return out;
    },

    /** Category counts per column (the `limit` most frequent of each), missing counted apart. */
    async categories(
      src: WindowSource,
      columns: readonly { key: number; ref: ColumnRef }[],
      limit = 500,
    ): Promise<Map<number, { counts: Map<string, number>; missing: number; distinct: number }>> {
      const out = new Map<number, { counts: Map<string, number>; missing: number; distinct: number }>();
      for (const c of columns) out.set(c.key, { counts: new Map(), missing: 0, distinct: 0 });
      if (columns.length === 0) return out;
      const keys = sql.join(
        columns.map((c) => sql.raw(String(c.key))),
        sql`, `,
      );
      const values = sql.join(
        columns.map((c) => sql`${refSql(c.ref)}::text`),
        sql`, `,
      );
      const result = await rows<{ k: number; v: string | null; c: number; d: number }>(sql`
        select k, v, c, d from (
          select k, v, c, count(*) over (partition by k) as d,
            row_number() over (partition by k order by c desc, v) as rn
          from (
            select k, v, count(*)::float8 as c
            from (select unnest(array[${keys}]) as k, unnest(array[${values}]) as v from ${from(src)}) t
            group by k, v
          ) g
        ) r where rn <= ${limit} or v is null`);
      for (const r of result) {
        const entry = out.get(Number(r.k));
        if (!entry) continue;
        if (r.v === null) entry.missing = Number(r.c);
        else entry.counts.set(r.v, Number(r.c));
        entry.distinct = Number(r.d);
      }
      for (const entry of out.values()) if (entry.missing > 0) entry.distinct -= 1;
      return out;
    },

    /** Quantiles, min, max, mean, population std and distinct count per column (reference profiling). */
    async describe(src: WindowSource, columns: readonly NumericColumn[], probs: readonly number[]) {
      const out = new Map<
        number,
        {
          quantiles: number[];
          min: number | null;
          max: number | null;
          mean: number | null;
          std: number | null;
          distinct: number;
          n: number;
        }
      >();
      for (const c of columns) {
        const expr = refSql(c.ref);
        const [r] = await rows<{
          q: number[] | string | null;
          mn: number | null;
          mx: number | null;
          mean: number | null;
          sd: number | null;
          d: number;
          n: number;
        }>(sql`
          select percentile_cont(${floatArray(probs)}::float8[]) within group (order by ${expr}) as q,
            min(${expr})::float8 as mn, max(${expr})::float8 as mx, avg(${expr})::float8 as mean,
            stddev_pop(${expr})::float8 as sd, count(distinct ${expr})::int as d, count(${expr})::int as n
          from ${from(src)}`);
        const q = r?.q;
        const quantiles = Array.isArray(q)
          ? q.map(Number)
          : typeof q === "string"
            ? q.replace(/[{}]/g, "").split(",").filter(Boolean).map(Number)
            : [];
        out.set(c.key, {
          quantiles,
          min: r?.mn ?? null,
          max: r?.mx ?? null,
          mean: r?.mean ?? null,
          std: r?.sd ?? null,
          distinct: r?.d ?? 0,
          n: r?.n ?? 0,
        });
      }
      return out;
    },

    /** (predicted, actual) counts of labelled rows, per chunk when `chunks` > 1 (chunks by time). */
    async confusion(src: WindowSource, chunks = 1) {
      return rows<{ chunk: number; predicted: string; actual: string; count: number }>(sql`
        select chunk, predicted, actual, count(*)::int as count from (
          select ntile(${chunks}) over (order by ts) as chunk, prediction as predicted, label as actual
          from ${from(src)} and label is not null
        ) t group by 1, 2, 3`);
    },

    /** Positive-class scores of labelled binary rows, rounded to 1e-4, with positives and negatives per score. */
    async scoreGroups(src: WindowSource, positive: string, chunks = 1) {
      return rows<{ chunk: number; score: number; pos: number; neg: number }>(sql`
        select chunk, score, count(*) filter (where label = ${positive})::int as pos,
          count(*) filter (where label <> ${positive})::int as neg
        from (
          select ntile(${chunks}) over (order by ts) as chunk, round(${positiveScoreExpr(positive)}::numeric, 4)::float8 as score, label
          from ${from(src)} and label is not null and confidence is not null
        ) t group by 1, 2`);
    },

    /** Count and Σp of positive-class scores per (chunk, predicted positive, calibration bucket) — the CBPE reduction. */
    async cbpeBuckets(src: WindowSource, positive: string, knots: readonly number[], chunks = 1) {
      return rows<{ chunk: number; pos: boolean; bucket: number; n: number; sp: number }>(sql`
        select chunk, pos, bucket, count(*)::int as n, sum(p)::float8 as sp from (
          select ntile(${chunks}) over (order by ts) as chunk, prediction = ${positive} as pos,
            width_bucket(${positiveScoreExpr(positive)}, ${floatArray(knots)}::float8[]) as bucket,
            ${positiveScoreExpr(positive)} as p
          from ${from(src)} and confidence is not null
        ) t group by 1, 2, 3`);
    },

    /** Confidence of labelled rows, rounded to 1e-4, with right and wrong predictions per score (multiclass CBPE). */
    async correctGroups(src: WindowSource, chunks = 1) {
      return rows<{ chunk: number; score: number; pos: number; neg: number }>(sql`
        select chunk, score, count(*) filter (where label = prediction)::int as pos,
          count(*) filter (where label <> prediction)::int as neg
        from (
          select ntile(${chunks}) over (order by ts) as chunk, round(confidence::numeric, 4)::float8 as score,
            label, prediction
          from ${from(src)} and label is not null and confidence is not null
        ) t group by 1, 2`);
    },

    /** Count and Σ confidence per (chunk, calibration bucket): multiclass CBPE from the predicted class's confidence. */
    async confidenceBuckets(src: WindowSource, knots: readonly number[], chunks = 1) {
      return rows<{ chunk: number; bucket: number; n: number; sp: number }>(sql`
        select chunk, bucket, count(*)::int as n, sum(confidence)::float8 as sp from (
          select ntile(${chunks}) over (order by ts) as chunk,
            width_bucket(confidence, ${floatArray(knots)}::float8[]) as bucket, confidence
          from ${from(src)} and confidence is not null
        ) t group by 1, 2`);
    },

    /** Class cells of the rows carrying class probabilities (multiclass CBPE), per chunk by time. */
    async classCells(src: WindowSource, chunks = 1): Promise<ClassCellRow[]> {
      const result = await rows<ClassCellRow>(sql`
        select chunk, e.key as cls, least(1000, floor(e.value::float8 * 1000))::int as bin,
          prediction = e.key as predicted, count(*)::int as n, sum(e.value::float8)::float8 as sp,
          count(label)::int as labelled, count(*) filter (where label = e.key)::int as pos
        from (
          select ntile(${chunks}) over (order by ts) as chunk, prediction, label, probabilities
          from ${from(src)} and probabilities is not null
        ) t cross join lateral jsonb_each(t.probabilities) as e(key, value)
        group by 1, 2, 3, 4`);
      return result.map((r) => ({ ...r, n: Number(r.n), sp: Number(r.sp) }));
    },

    /** Per-chunk counts for learned bands of the confidence monitor. */
    async confidenceChunks(src: WindowSource, threshold: number, chunks: number) {
      return rows<{ chunk: number; n: number; low: number; mean: number | null }>(sql`
        select chunk, count(*)::int as n, count(*) filter (where confidence < ${threshold})::int as low,
          avg(confidence)::float8 as mean
        from (select ntile(${chunks}) over (order by ts) as chunk, confidence from ${from(src)}) t
        group by 1`);
    },

    /**
     * Regression moments of labelled rows whose prediction and label are numbers (e = label −
     * prediction), per chunk of those rows by time when `chunks` > 1.
     */
    async regression(src: WindowSource, chunks = 1): Promise<(RegressionMoments & { chunk: number })[]> {
      const result = await rows<Record<keyof RegressionMoments | "chunk", number | string | null>>(sql`
        select chunk, count(*)::int as "n", sum(e)::float8 as "sumErr", sum(abs(e))::float8 as "sumAbsErr",
          sum(e * e)::float8 as "sumSqErr",
          coalesce(sum(abs(e) / abs(y)) filter (where y <> 0), 0)::float8 as "sumApe",
          count(*) filter (where y <> 0)::int as "nonZero", sum(y)::float8 as "sumY", sum(y * y)::float8 as "sumSqY"
        from (
          select ntile(${chunks}) over (order by ts) as chunk, y, y - p as e
          from (select ts, ${numberOf("label")} as y, ${numberOf("prediction")} as p from ${from(src)} and label is not null) l
          where y is not null and p is not null
        ) t group by 1 order by 1`);
      return result.map((r) => ({
        chunk: Number(r.chunk),
        n: Number(r.n),
        sumErr: Number(r.sumErr),
        sumAbsErr: Number(r.sumAbsErr),
        sumSqErr: Number(r.sumSqErr),
        sumApe: Number(r.sumApe),
        nonZero: Number(r.nonZero),
        sumY: Number(r.sumY),
        sumSqY: Number(r.sumSqY),
      }));
    },

    /**
     * At most `limit` raw rows (their `num` and `cat` arrays) in time order, evenly spaced over
     * the source: the sample the multivariate reference is fitted from. Empty when retention
     * dropped the window's rows.
     */
    async sampleRows(src: WindowSource, limit: number) {
      return rows<{ n: (number | null)[]; k: (string | null)[] }>(sql`
        select n, k from (
          select num as n, cat as k, ts, row_number() over (order by ts) - 1 as i, count(*) over () as c
          from ${from(src)}
        ) t where i % greatest(1, ceil(c::float8 / ${limit}))::bigint = 0 order by ts limit ${limit}`);
    },

    /** Keys outside the configured features (or of the wrong type), by name and JSON type. */
    async extraKeys(src: WindowSource) {
      return rows<{ key: string; type: string; count: number }>(sql`
        select key, jsonb_typeof(t.extra -> key) as type, count(*)::int as count
        from (select extra from ${from(src)} and extra is not null) t, jsonb_object_keys(t.extra) as key
        group by 1, 2 order by 3 desc limit 50`);
    },
  };
}

/** The window reductions (raw rows or rollups, one interface). */
export type WindowRepository = ReturnType<typeof createRawWindowRepository>;
