/**
 * The window reductions over rollups: the same answers as the raw-row reductions
 * (window-repository.ts), computed from each bucket's aggregates, so a monitor's cost depends on
 * buckets × columns and never on rows. Staged reference uploads are still reduced from their rows.
 *
 * Where a rollup cannot be exact, and by how much (the tests hold these bounds against SciPy):
 * - windows are whole minutes: a bucket counts when its start lies in [from, to);
 * - numeric histograms on arbitrary edges: exact for columns with ≤ 32 distinct values; otherwise
 *   a bin straddling an edge is split in proportion to its overlap, using the binning (DDSketch
 *   or aligned histogram) that straddles least; values outside the data's exact min/max are never
 *   invented;
 * - quantiles: within the narrower of the two binnings' bins (≤ 1% relative, or range / 512);
 * - confidence shares under a threshold: exact for thresholds with at most 3 decimals; scores for
 *   ROC AUC and CBPE are confidence-bin centres (±0.0005);
 * - time chunks (learned bands) split at bucket boundaries, by cumulative row count.
 */
import type { Db } from "../db/client.js";
import { countsNonZero } from "../rollups/counts.js";
import {
  type ClassCell,
  classCellRows,
  DEFAULT_MAX_CATEGORIES,
  emptyRollup,
  labelledRows,
  mergeRollup,
  NO_CONFIDENCE,
  type NumericAgg,
  type RegressionAgg,
  type RollupData,
} from "../rollups/model.js";
import { createRollupRepository, type WindowBucket } from "../rollups/repository.js";
import {
  alignedIntervals,
  bucketOf,
  clampIntervals,
  type Interval,
  quantileOf,
  sketchIntervals,
  spreadOverEdges,
  straddleMass,
} from "../rollups/sketch.js";
import { addMoments, emptyMoments, type RegressionMoments } from "./stats/index.js";
import {
  type ClassCellRow,
  type ColumnRef,
  createRawWindowRepository,
  type Histogram,
  type WindowRepository,
  type WindowSource,
} from "./window-repository.js";

/** Name the data-quality monitor reports for values past the per-column category cap. */
export const OTHER_CATEGORY = "(other)";

type Column =
  | { kind: "numeric"; agg: NumericAgg | null }
  | { kind: "categorical"; values: Record<string, number>; other: number; n: number };

function columnOf(data: RollupData, ref: ColumnRef): Column {
  switch (ref.kind) {
    case "num":
      return { kind: "numeric", agg: data.numeric[ref.name] ?? null };
    case "cat": {
      const c = data.categorical[ref.name];
      return { kind: "categorical", values: c?.values ?? {}, other: c?.other ?? 0, n: c?.n ?? 0 };
    }
    case "confidence":
      return { kind: "numeric", agg: data.confidence };
    case "prediction":
      return ref.numeric
        ? { kind: "numeric", agg: data.predictionNumeric }
        : { kind: "categorical", ...data.prediction };
    case "residual":
      return { kind: "numeric", agg: data.regression?.residual ?? null };
  }
}

/** The binning of a numeric column that splits the least mass across `edges`. */
function bestIntervals(agg: NumericAgg, edges: readonly number[]): Interval[] {
  const min = agg.min as number;
  const max = agg.max as number;
  if (agg.values)
    return Object.entries(agg.values).map(([v, count]) => ({ lo: Number(v), hi: Number(v), count }));
  if (min === max) return [{ lo: min, hi: min, count: agg.n }];
  const a = clampIntervals(sketchIntervals(agg.sketch), min, max);
  const b = clampIntervals(alignedIntervals(agg.aligned), min, max);
  return straddleMass(a, edges) <= straddleMass(b, edges) ? a : b;
}

/** Rounds counts to whole numbers keeping their total (largest remainder). */
function roundKeepingTotal(xs: number[]): number[] {
  const total = Math.round(xs.reduce((s, x) => s + x, 0));
  const floors = xs.map(Math.floor);
  let rest = total - floors.reduce((s, x) => s + x, 0);
  const order = xs.map((x, i) => [x - Math.floor(x), i] as const).sort((p, q) => q[0] - p[0]);
  for (const [, i] of order) {
    if (rest <= 0) break;
    floors[i] = (floors[i] as number) + 1;
    rest--;
  }
  return floors;
}

/** Histogram of a numeric column on `edges` (bucket 0 below the first edge, as width_bucket). */
function numericHistogram(agg: NumericAgg | null, edges: readonly number[], rows: number): Histogram {
  const k = edges.length + 1;
  if (!agg || agg.n === 0) return { counts: new Array(k).fill(0), sums: new Array(k).fill(0), missing: rows };
  const ivs = bestIntervals(agg, edges);
  const spread = spreadOverEdges(ivs, edges);
  // Mass the spreading put outside the data's exact range is moved back inside it, and a bin that
  // holds the exact min or max holds at least one value: range checks never invent or lose one.
  const counts = agg.values ? spread.counts : roundKeepingTotal(spread.counts);
  const lowBin = bucketOf(edges, agg.min as number);
  const highBin = bucketOf(edges, agg.max as number);
  for (const bin of [lowBin, highBin])
    if ((counts[bin] as number) < 1) {
      const donor = counts.findIndex((c, i) => c >= 2 && i !== lowBin && i !== highBin);
      counts[bin] = 1;
      if (donor >= 0) counts[donor] = (counts[donor] as number) - 1;
    }
  const sums = counts.map((c, i) => {
    const s = spread.counts[i] as number;
    return s > 0 ? ((spread.sums[i] as number) / s) * c : 0;
  });
  return { counts, sums, missing: rows - agg.n };
}

/** Splits buckets into `chunks` time-ordered groups by cumulative weight, numbered 1…chunks like ntile. */
function chunked<T>(
  buckets: readonly WindowBucket[],
  chunks: number,
  weight: (d: RollupData) => number,
  each: (chunk: number, d: RollupData) => T[],
): T[] {
  const total = buckets.reduce((s, b) => s + weight(b.data), 0);
  const out: T[] = [];
  let seen = 0;
  for (const b of buckets) {
    const w = weight(b.data);
    if (w <= 0) continue;
    const chunk = chunks <= 1 ? 1 : Math.min(chunks, Math.floor((chunks * (seen + w / 2)) / total) + 1);
    seen += w;
    out.push(...each(chunk, b.data));
  }
  return out;
}

const binCentre = (bin: string) => (Number(bin) + 0.5) / 1000;

function lowConfidence(data: RollupData, threshold: number): number {
  const t = threshold * 1000;
  const whole = Math.floor(t + 1e-9);
  const part = t - whole > 1e-9 ? t - whole : 0;
  let low = 0;
  for (const p in data.confidence.classes) {
    const bins = data.confidence.classes[p] as Record<string, number>;
    for (const b in bins) {
      const i = Number(b);
      if (i < whole) low += bins[b] as number;
      else if (i === whole && part) low += (bins[b] as number) * part;
    }
  }
  return Math.round(low);
}

/**
 * The class cells of a window's buckets, per chunk of the rows with probabilities (as the raw
 * reduction's ntile over those rows, split at bucket boundaries). Pure, so the multiclass CBPE
 * simulation runs it on rollups built in memory.
 */
export function classCellsOfBuckets(buckets: readonly WindowBucket[], chunks = 1): ClassCellRow[] {
  // Per class, cells keyed by (chunk, side, bin) as one number: this runs over every cell of
  // every bucket of a reference (thousands per bucket).
  const byClass = new Map<string, Map<number, ClassCellRow>>();
  chunked(
    buckets,
    chunks,
    (d) => classCellRows(d.classCells),
    (chunk, d) => {
      for (const cls in d.classCells ?? {}) {
        const agg = d.classCells?.[cls];
        if (!agg) continue;
        let out = byClass.get(cls);
        if (!out) {
          out = new Map();
          byClass.set(cls, out);
        }
        for (const [predicted, side] of [
          [true, agg.predicted],
          [false, agg.other],
        ] as const)
          for (const b in side) {
            const [n, sp, labelled, pos] = side[b] as ClassCell;
            const bin = Number(b);
            const key = (chunk * 2 + (predicted ? 1 : 0)) * 2048 + bin;
            let e = out.get(key);
            if (!e) {
              e = { chunk, cls, bin, predicted, n: 0, sp: 0, labelled: 0, pos: 0 };
              out.set(key, e);
            }
            e.n += n;
            e.sp += sp;
            e.labelled += labelled;
            e.pos += pos;
          }
      }
      return [];
    },
  );
  const rows: ClassCellRow[] = [];
  for (const out of byClass.values()) for (const e of out.values()) if (e.n > 0) rows.push(e);
  return rows;
}

/**
 * Labelled rows grouped by chunk and score (4 decimals), counted as positive or not: the score
 * of a row predicted `p` with confidence bin centre `c` is `scoreOf(p, c)`, and it is positive when
 * `positiveOf(p, actual)`. Serves ROC AUC (score of the positive class) and the accuracy
 * calibration (confidence, correct or not) alike.
 */
function labelGroups(
  buckets: Parameters<typeof chunked>[0],
  chunks: number,
  scoreOf: (predicted: string, centre: number) => number,
  positiveOf: (predicted: string, actual: string) => boolean,
): { chunk: number; score: number; pos: number; neg: number }[] {
  const groups = new Map<string, { chunk: number; score: number; pos: number; neg: number }>();
  chunked(buckets, chunks, labelledRows, (chunk, d) => {
    for (const p in d.labels)
      for (const a in d.labels[p])
        for (const [bin, n] of Object.entries(d.labels[p]?.[a] ?? {})) {
          if (bin === NO_CONFIDENCE) continue;
          const score = Math.round(scoreOf(p, binCentre(bin)) * 10_000) / 10_000;
          const key = `${chunk}|${score}`;
          const g = groups.get(key) ?? { chunk, score, pos: 0, neg: 0 };
          if (positiveOf(p, a)) g.pos += n;
          else g.neg += n;
          groups.set(key, g);
        }
    return [];
  });
  return [...groups.values()];
}

/** Window reductions from rollups, with the raw-row reductions for staged uploads. */
export function createRollupWindowRepository(
  db: Db,
  opts: { maxCategories?: number } = {},
): WindowRepository {
  const cap = opts.maxCategories ?? DEFAULT_MAX_CATEGORIES;
  const raw = createRawWindowRepository(db);
  const rollups = createRollupRepository(db, { maxCategories: cap });
  // A monitor run asks several reductions of one window at once (data quality asks four): those
  // share one read while it is in flight. Nothing is kept after it, so no reader sees stale data.
  const inFlight = new Map<string, Promise<WindowBucket[]>>();
  function load(src: Extract<WindowSource, { kind: "window" }>): Promise<WindowBucket[]> {
    const segment = src.segment?.key ?? "";
    const key = `${src.modelId}|${src.from.getTime()}|${src.to.getTime()}|${src.version ?? ""}|${segment}`;
    let p = inFlight.get(key);
    if (!p) {
      p = rollups
        .window({ modelId: src.modelId, from: src.from, to: src.to, version: src.version, segment })
        .finally(() => inFlight.delete(key));
      inFlight.set(key, p);
    }
    return p;
  }
  async function whole(src: Extract<WindowSource, { kind: "window" }>): Promise<RollupData | null> {
    const buckets = await load(src);
    if (buckets.length === 0) return null;
    // Into a fresh rollup: the loaded buckets may be shared with a concurrent reader.
    return buckets.reduce((a, b) => mergeRollup(a, b.data, cap), emptyRollup());
  }

  return {
    async summary(src, threshold) {
      if (src.kind === "upload") return raw.summary(src, threshold);
      const d = await whole(src);
      if (!d) return { rows: 0, labelled: 0, lowConfidence: 0, withConfidence: 0, first: null, last: null };
      return {
        rows: d.rows,
        labelled: labelledRows(d),
        lowConfidence: lowConfidence(d, threshold),
        withConfidence: d.confidence.n,
        first: d.first ? new Date(d.first) : null,
        last: d.last ? new Date(d.last) : null,
      };
    },

    hasAny: (modelId) => rollups.hasAny(modelId),

    // Raw rows in both cases: the multivariate fit needs rows, and a window's are kept within retention.
    sampleRows: (src, limit) => raw.sampleRows(src, limit),

    async histograms(src, columns) {
      if (src.kind === "upload") return raw.histograms(src, columns);
      const out = new Map<number, Histogram>();
      const d = await whole(src);
      for (const c of columns) {
        if (!d) {
          const k = (c.categories ? c.categories.length : (c.edges?.length ?? 0)) + 1;
          out.set(c.key, { counts: new Array(k).fill(0), sums: new Array(k).fill(0), missing: 0 });
          continue;
        }
        const col = columnOf(d, c.ref);
        if (col.kind === "numeric" && !c.categories)
          out.set(c.key, numericHistogram(col.agg, c.edges ?? [], d.rows));
        else if (col.kind === "categorical" && c.categories) {
          const counts = c.categories.map((v) => col.values[v] ?? 0);
          const known = counts.reduce((s, x) => s + x, 0);
          counts.push(col.n - known);
          out.set(c.key, { counts, sums: new Array(counts.length).fill(0), missing: d.rows - col.n });
        } else
          throw new Error(
            `column ${c.key}: a ${col.kind} column needs ${col.kind === "numeric" ? "edges" : "categories"}`,
          );
      }
      return out;
    },

    async categories(src, columns, limit = 500) {
      if (src.kind === "upload") return raw.categories(src, columns, limit);
      const out = new Map<number, { counts: Map<string, number>; missing: number; distinct: number }>();
      const d = await whole(src);
      for (const c of columns) {
        if (!d) {
          out.set(c.key, { counts: new Map(), missing: 0, distinct: 0 });
          continue;
        }
        const col = columnOf(d, c.ref);
        let entries: [string, number][];
        let n: number;
        if (col.kind === "categorical") {
          entries = Object.entries(col.values);
          if (col.other > 0) entries.push([OTHER_CATEGORY, col.other]);
          n = col.n;
        } else {
          entries = Object.entries(col.agg?.values ?? {});
          n = col.agg?.n ?? 0;
        }
        entries.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
        const distinct =
          col.kind === "numeric" && col.agg && !col.agg.values ? Number.POSITIVE_INFINITY : entries.length;
        out.set(c.key, { counts: new Map(entries.slice(0, limit)), missing: d.rows - n, distinct });
      }
      return out;
    },

    async describe(src, columns, probs) {
      if (src.kind === "upload") return raw.describe(src, columns, probs);
      const out: Awaited<ReturnType<WindowRepository["describe"]>> = new Map();
      const d = await whole(src);
      for (const c of columns) {
        const col = d ? columnOf(d, c.ref) : null;
        const agg = col?.kind === "numeric" ? col.agg : null;
        if (!agg || agg.n === 0) {
          out.set(c.key, { quantiles: [], min: null, max: null, mean: null, std: null, distinct: 0, n: 0 });
          continue;
        }
        const mean = agg.sum / agg.n;
        const variance = Math.max(0, agg.sumsq / agg.n - mean * mean);
        let quantiles: number[];
        let distinct: number;
        if (agg.values) {
          // percentile_cont: linear between the order statistics around rank q·(n−1).
          const sorted = Object.entries(agg.values)
            .map(([v, k]) => [Number(v), k] as const)
            .sort((a, b) => a[0] - b[0]);
          const at = (rank: number) => {
            let seen = 0;
            for (const [v, k] of sorted) {
              seen += k;
              if (rank < seen) return v;
            }
            return (sorted[sorted.length - 1] as readonly [number, number])[0];
          };
          quantiles = probs.map((q) => {
            const r = q * (agg.n - 1);
            const lo = Math.floor(r);
            return at(lo) + (at(Math.min(agg.n - 1, lo + 1)) - at(lo)) * (r - lo);
          });
          distinct = sorted.length;
        } else {
          const a = clampIntervals(sketchIntervals(agg.sketch), agg.min as number, agg.max as number);
          const b = clampIntervals(alignedIntervals(agg.aligned), agg.min as number, agg.max as number);
          quantiles = probs.map((q) => {
            const qa = quantileOf(a, q) as number;
            const qb = quantileOf(b, q) as number;
            // The aligned bins have one width; the sketch's grow with |x|: use the finer here.
            const widthB = 2 ** agg.aligned.exp;
            const widthA = Math.abs(qa) * 0.02;
            return widthA < widthB ? qa : qb;
          });
          distinct = Math.max(33, countsNonZero(agg.aligned.bins));
        }
        out.set(c.key, {
          quantiles,
          min: agg.min,
          max: agg.max,
          mean,
          std: Math.sqrt(variance),
          distinct,
          n: agg.n,
        });
      }
      return out;
    },

    async confusion(src, chunks = 1) {
      if (src.kind === "upload") return raw.confusion(src, chunks);
      return chunked(await load(src), chunks, labelledRows, (chunk, d) => {
        const cells: { chunk: number; predicted: string; actual: string; count: number }[] = [];
        for (const p in d.labels)
          for (const a in d.labels[p]) {
            const count = Object.values(d.labels[p]?.[a] ?? {}).reduce((s, x) => s + x, 0);
            if (count) cells.push({ chunk, predicted: p, actual: a, count });
          }
        return cells;
      }).reduce(
        (acc, cell) => {
          const hit = acc.find(
            (x) => x.chunk === cell.chunk && x.predicted === cell.predicted && x.actual === cell.actual,
          );
          if (hit) hit.count += cell.count;
          else acc.push({ ...cell });
          return acc;
        },
        [] as { chunk: number; predicted: string; actual: string; count: number }[],
      );
    },

    async scoreGroups(src, positive, chunks = 1) {
      if (src.kind === "upload") return raw.scoreGroups(src, positive, chunks);
      return labelGroups(
        await load(src),
        chunks,
        (p, c) => (p === positive ? c : 1 - c),
        (_p, a) => a === positive,
      );
    },

    async cbpeBuckets(src, positive, knots, chunks = 1) {
      if (src.kind === "upload") return raw.cbpeBuckets(src, positive, knots, chunks);
      const out = new Map<string, { chunk: number; pos: boolean; bucket: number; n: number; sp: number }>();
      chunked(
        await load(src),
        chunks,
        (d) => d.rows,
        (chunk, d) => {
          for (const p in d.confidence.classes)
            for (const [bin, n] of Object.entries(d.confidence.classes[p] ?? {})) {
              const c = binCentre(bin);
              const score = p === positive ? c : 1 - c;
              // width_bucket(x, thresholds): how many thresholds are ≤ x.
              const bucket = bucketOf(knots, score);
              const key = `${chunk}|${p === positive}|${bucket}`;
              const e = out.get(key) ?? { chunk, pos: p === positive, bucket, n: 0, sp: 0 };
              e.n += n;
              e.sp += n * score;
              out.set(key, e);
            }
          return [];
        },
      );
      return [...out.values()];
    },

    async correctGroups(src, chunks = 1) {
      if (src.kind === "upload") return raw.correctGroups(src, chunks);
      return labelGroups(
        await load(src),
        chunks,
        (_p, c) => c,
        (p, a) => a === p,
      );
    },

    async confidenceBuckets(src, knots, chunks = 1) {
      if (src.kind === "upload") return raw.confidenceBuckets(src, knots, chunks);
      const out = new Map<string, { chunk: number; bucket: number; n: number; sp: number }>();
      chunked(
        await load(src),
        chunks,
        (d) => d.rows,
        (chunk, d) => {
          for (const p in d.confidence.classes)
            for (const [bin, n] of Object.entries(d.confidence.classes[p] ?? {})) {
              const score = binCentre(bin);
              const bucket = bucketOf(knots, score);
              const key = `${chunk}|${bucket}`;
              const e = out.get(key) ?? { chunk, bucket, n: 0, sp: 0 };
              e.n += n;
              e.sp += n * score;
              out.set(key, e);
            }
          return [];
        },
      );
      return [...out.values()];
    },

    async classCells(src, chunks = 1) {
      if (src.kind === "upload") return raw.classCells(src, chunks);
      return classCellsOfBuckets(await load(src), chunks);
    },

    async confidenceChunks(src, threshold, chunks) {
      if (src.kind === "upload") return raw.confidenceChunks(src, threshold, chunks);
      const out = new Map<number, { chunk: number; n: number; low: number; sum: number; withConf: number }>();
      chunked(
        await load(src),
        chunks,
        (d) => d.rows,
        (chunk, d) => {
          const e = out.get(chunk) ?? { chunk, n: 0, low: 0, sum: 0, withConf: 0 };
          e.n += d.rows;
          e.low += lowConfidence(d, threshold);
          e.sum += d.confidence.sum;
          e.withConf += d.confidence.n;
          out.set(chunk, e);
          return [];
        },
      );
      return [...out.values()].map((e) => ({
        chunk: e.chunk,
        n: e.n,
        low: e.low,
        mean: e.withConf > 0 ? e.sum / e.withConf : null,
      }));
    },

    async regression(src, chunks = 1) {
      if (src.kind === "upload") return raw.regression(src, chunks);
      const out = new Map<number, RegressionMoments & { chunk: number }>();
      chunked(
        await load(src),
        chunks,
        (d) => d.regression?.n ?? 0,
        (chunk, d) => {
          const { residual: _, ...moments } = d.regression as RegressionAgg;
          out.set(chunk, { ...addMoments(out.get(chunk) ?? emptyMoments(), moments), chunk });
          return [];
        },
      );
      return [...out.values()].sort((a, b) => a.chunk - b.chunk);
    },

    async extraKeys(src) {
      if (src.kind === "upload") return raw.extraKeys(src);
      const d = await whole(src);
      if (!d) return [];
      const out: { key: string; type: string; count: number }[] = [];
      for (const key in d.unknown)
        for (const [type, count] of Object.entries(d.unknown[key] ?? {})) out.push({ key, type, count });
      return out.sort((a, b) => b.count - a.count).slice(0, 50);
    },
  } satisfies WindowRepository;
}
