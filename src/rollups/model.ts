/**
 * The rollup of one bucket (model × model version × time bucket × segment): every aggregate the
 * monitors read, in one JSON document. It is also the public profile format that
 * `POST /api/v1/models/:model/profiles` accepts (see docs/rollups.md), so a fleet can send one
 * per pod per minute instead of rows. Everything in it merges by addition, so buckets combine in
 * any order and a late label is one more delta. Documents of the earlier format 1 are read
 * through format.ts.
 */
import {
  type AlignedHistogram,
  alignedAdd,
  alignedFit,
  alignedMerge,
  emptyAligned,
  emptySketch,
  type Sketch,
  sketchAdd,
  sketchMerge,
} from "./sketch.js";

/** The version of the rollup / profile format this code writes (2: binnings as dense counts). */
export const ROLLUP_FORMAT = 2;
/** Exact value counts are kept for numeric columns with at most this many distinct values. */
export const EXACT_VALUES_MAX = 32;
/** Confidence is counted in bins of this width (so a threshold with 3 decimals is exact). */
export const CONFIDENCE_BINS = 1000;
/** Default cap of distinct values per categorical column; the rest is counted as `(other)`. */
export const DEFAULT_MAX_CATEGORIES = 1000;
/** The label cell key of a prediction that had no confidence. */
export const NO_CONFIDENCE = "-1";

/** A numeric column: present values, exact moments and extremes, and two mergeable binnings. */
export interface NumericAgg {
  n: number;
  min: number | null;
  max: number | null;
  sum: number;
  sumsq: number;
  /** Exact counts per value while the column has at most EXACT_VALUES_MAX distinct values, else null. */
  values: Record<string, number> | null;
  sketch: Sketch;
  aligned: AlignedHistogram;
}

/** A categorical column: present values, counts per value (capped) and the rest as `other`. */
export interface CategoricalAgg {
  n: number;
  values: Record<string, number>;
  other: number;
}

/** Confidence: a numeric column plus counts per predicted class and confidence bin. */
export interface ConfidenceAgg extends NumericAgg {
  /** prediction → bin (⌊c × 1000⌋, 0…999) → rows. */
  classes: Record<string, Record<string, number>>;
}

/** One bucket's aggregates. `rows` counts every prediction; a column's missing count is rows − n. */
export interface RollupData {
  format: typeof ROLLUP_FORMAT;
  rows: number;
  first: string | null;
  last: string | null;
  numeric: Record<string, NumericAgg>;
  categorical: Record<string, CategoricalAgg>;
  /** Keys outside the configured features, or of the wrong type: key → JSON type → rows. */
  unknown: Record<string, Record<string, number>>;
  confidence: ConfidenceAgg;
  prediction: CategoricalAgg;
  /** Predictions parsed as numbers (regression models): null when no prediction was numeric. */
  predictionNumeric: NumericAgg | null;
  /** Labelled rows: prediction → label → confidence bin (or "-1") → rows. A regression model's
   * rows whose prediction and label are both numbers are in `regression` instead. */
  labels: Record<string, Record<string, Record<string, number>>>;
  /** Regression models: moments of the labelled rows' errors (absent or null: none). */
  regression?: RegressionAgg | null;
}

/**
 * The labelled rows of a regression model as mergeable moments, e = label − prediction, y = label:
 * enough for MAE, RMSE, MAPE and R² of any set of buckets, plus the residual's distribution.
 */
export interface RegressionAgg {
  /** Labelled rows whose prediction and label are both numbers. */
  n: number;
  /** Σe, Σ|e|, Σe². */
  sumErr: number;
  sumAbsErr: number;
  sumSqErr: number;
  /** Σ|e|/|y| over the rows with y ≠ 0, and how many those are (MAPE leaves y = 0 out). */
  sumApe: number;
  nonZero: number;
  /** Σy and Σy² (the total sum of squares of R²). */
  sumY: number;
  sumSqY: number;
  /** The residual e as a numeric column (its drift is checked like a feature's). */
  residual: NumericAgg;
}

/** An empty numeric column. */
export function emptyNumeric(): NumericAgg {
  return {
    n: 0,
    min: null,
    max: null,
    sum: 0,
    sumsq: 0,
    values: {},
    sketch: emptySketch(),
    aligned: emptyAligned(),
  };
}

/** An empty categorical column. */
export const emptyCategorical = (): CategoricalAgg => ({ n: 0, values: {}, other: 0 });

/** An empty rollup. */
export function emptyRollup(): RollupData {
  return {
    format: ROLLUP_FORMAT,
    rows: 0,
    first: null,
    last: null,
    numeric: {},
    categorical: {},
    unknown: {},
    confidence: { ...emptyNumeric(), classes: {} },
    prediction: emptyCategorical(),
    predictionNumeric: null,
    labels: {},
    regression: null,
  };
}

/** An empty regression aggregate. */
export function emptyRegression(): RegressionAgg {
  return {
    n: 0,
    sumErr: 0,
    sumAbsErr: 0,
    sumSqErr: 0,
    sumApe: 0,
    nonZero: 0,
    sumY: 0,
    sumSqY: 0,
    residual: emptyNumeric(),
  };
}

/** Adds (count = 1) or takes out (count = −1) one labelled regression row. */
export function addRegression(r: RollupData, prediction: number, label: number, count = 1): void {
  r.regression ??= emptyRegression();
  const a = r.regression;
  const e = label - prediction;
  a.n += count;
  a.sumErr += e * count;
  a.sumAbsErr += Math.abs(e) * count;
  a.sumSqErr += e * e * count;
  if (label !== 0) {
    a.sumApe += (Math.abs(e) / Math.abs(label)) * count;
    a.nonZero += count;
  }
  a.sumY += label * count;
  a.sumSqY += label * label * count;
  addNumeric(a.residual, e, count);
}

/** Adds `b` into `a`. */
export function mergeRegression(a: RegressionAgg, b: RegressionAgg): void {
  a.n += b.n;
  a.sumErr += b.sumErr;
  a.sumAbsErr += b.sumAbsErr;
  a.sumSqErr += b.sumSqErr;
  a.sumApe += b.sumApe;
  a.nonZero += b.nonZero;
  a.sumY += b.sumY;
  a.sumSqY += b.sumSqY;
  mergeNumeric(a.residual, b.residual);
}

/** The entry of `key`, made by `make` when absent. */
function entry<T>(map: Record<string, T>, key: string, make: () => T): T {
  let v = map[key];
  if (v === undefined) {
    v = make();
    map[key] = v;
  }
  return v;
}

function bump(map: Record<string, number>, key: string, count: number): void {
  const next = (map[key] ?? 0) + count;
  if (next === 0) delete map[key];
  else map[key] = next;
}

/** Adds one value to a numeric column (count −1 takes one out again: a relabelled residual). */
export function addNumeric(a: NumericAgg, x: number, count = 1): void {
  a.n += count;
  a.sum += x * count;
  a.sumsq += x * x * count;
  // The aligned histogram is re-fitted only when the range grows (the hot path of ingest).
  const widened = a.min === null || a.max === null || x < a.min || x > a.max;
  if (a.min === null || x < a.min) a.min = x;
  if (a.max === null || x > a.max) a.max = x;
  if (a.values) {
    const key = String(x);
    const seen = a.values[key];
    if (seen !== undefined) bump(a.values, key, count);
    else if (Object.keys(a.values).length >= EXACT_VALUES_MAX) a.values = null;
    else a.values[key] = count;
  }
  sketchAdd(a.sketch, x, count);
  if (widened) alignedFit(a.aligned, a.min, a.max);
  alignedAdd(a.aligned, x, count);
}

/** Adds `b` into `a`. */
export function mergeNumeric(a: NumericAgg, b: NumericAgg): void {
  // A relabel's delta can hold n = 0 with one residual out and another in: only never-used is empty.
  if (b.n === 0 && b.min === null) return;
  a.n += b.n;
  a.sum += b.sum;
  a.sumsq += b.sumsq;
  a.min = a.min === null || (b.min !== null && b.min < a.min) ? b.min : a.min;
  a.max = a.max === null || (b.max !== null && b.max > a.max) ? b.max : a.max;
  if (a.values && b.values) {
    for (const k in b.values) bump(a.values, k, b.values[k] as number);
    if (Object.keys(a.values).length > EXACT_VALUES_MAX) a.values = null;
  } else a.values = null;
  sketchMerge(a.sketch, b.sketch);
  alignedMerge(a.aligned, b.aligned, a.min as number, a.max as number);
}

/** Keeps the `cap` most frequent values of a categorical column and folds the rest into `other`. */
function capCategorical(a: CategoricalAgg, cap: number): void {
  const keys = Object.keys(a.values);
  if (keys.length <= cap) return;
  keys.sort((x, y) => (a.values[y] as number) - (a.values[x] as number) || (x < y ? -1 : 1));
  for (const k of keys.slice(cap)) {
    a.other += a.values[k] as number;
    delete a.values[k];
  }
}

/** Adds one value to a categorical column (values past `cap` distinct count as other). */
export function addCategorical(a: CategoricalAgg, v: string, cap: number): void {
  a.n += 1;
  if (v in a.values || Object.keys(a.values).length < cap) bump(a.values, v, 1);
  else a.other += 1;
}

/** Adds `b` into `a`, keeping at most `cap` distinct values. */
export function mergeCategorical(a: CategoricalAgg, b: CategoricalAgg, cap: number): void {
  a.n += b.n;
  a.other += b.other;
  for (const k in b.values) bump(a.values, k, b.values[k] as number);
  capCategorical(a, cap);
}

function mergeNested(a: Record<string, Record<string, number>>, b: Record<string, Record<string, number>>) {
  for (const k in b) {
    const into = entry(a, k, () => ({}));
    const from = b[k] as Record<string, number>;
    for (const j in from) bump(into, j, from[j] as number);
    if (Object.keys(into).length === 0) delete a[k];
  }
}

/** Adds rollup `b` into `a` (in place) and returns `a`. */
export function mergeRollup(a: RollupData, b: RollupData, cap = DEFAULT_MAX_CATEGORIES): RollupData {
  a.rows += b.rows;
  if (b.first && (!a.first || b.first < a.first)) a.first = b.first;
  if (b.last && (!a.last || b.last > a.last)) a.last = b.last;
  for (const k in b.numeric) mergeNumeric(entry(a.numeric, k, emptyNumeric), b.numeric[k] as NumericAgg);
  for (const k in b.categorical)
    mergeCategorical(entry(a.categorical, k, emptyCategorical), b.categorical[k] as CategoricalAgg, cap);
  mergeNested(a.unknown, b.unknown);
  mergeNumeric(a.confidence, b.confidence);
  mergeNested(a.confidence.classes, b.confidence.classes);
  mergeCategorical(a.prediction, b.prediction, cap);
  if (b.predictionNumeric) {
    a.predictionNumeric ??= emptyNumeric();
    mergeNumeric(a.predictionNumeric, b.predictionNumeric);
  }
  if (b.regression) {
    a.regression ??= emptyRegression();
    mergeRegression(a.regression, b.regression);
  }
  for (const p in b.labels) {
    const into = entry(a.labels, p, () => ({}));
    mergeNested(into, b.labels[p] as Record<string, Record<string, number>>);
    if (Object.keys(into).length === 0) delete a.labels[p];
  }
  return a;
}

/** The confidence bin of c (0…999). */
export function confidenceBin(c: number): number {
  return Math.min(CONFIDENCE_BINS - 1, Math.max(0, Math.floor(c * CONFIDENCE_BINS)));
}

/** The label-cell key of a confidence (its bin, or "-1" for none). */
export const labelBin = (c: number | null): string => (c === null ? NO_CONFIDENCE : String(confidenceBin(c)));

/** Labelled rows in a rollup. */
export function labelledRows(r: RollupData): number {
  let n = 0;
  for (const p in r.labels)
    for (const l in r.labels[p]) for (const b in r.labels[p]?.[l]) n += r.labels[p]?.[l]?.[b] as number;
  return n + (r.regression?.n ?? 0);
}

/** Adds (count = 1) or takes out (count = −1) one label of a prediction. */
export function addLabel(
  r: RollupData,
  prediction: string,
  label: string,
  confidence: number | null,
  count = 1,
) {
  const cell = entry(
    entry(r.labels, prediction, () => ({})),
    label,
    () => ({}),
  );
  bump(cell, labelBin(confidence), count);
  if (Object.keys(cell).length === 0) delete r.labels[prediction]?.[label];
  if (Object.keys(r.labels[prediction] ?? {}).length === 0) delete r.labels[prediction];
}

/** A prediction in storage layout, as the rollup reads it. */
export interface RollupRow {
  t: string;
  p: string;
  c: number | null;
  n: readonly (number | null)[];
  k: readonly (string | null)[];
  x: Record<string, unknown> | null;
  l?: string | null;
}

/** The feature layout a rollup is built with: names by slot (1-based) per type. */
export interface RollupLayout {
  numeric: readonly string[];
  categorical: readonly string[];
  regression: boolean;
  maxCategories: number;
}

const NUMBER = /^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?$/;

/** Adds one stored prediction to a rollup. */
export function addRow(r: RollupData, row: RollupRow, layout: RollupLayout): void {
  r.rows += 1;
  if (!r.first || row.t < r.first) r.first = row.t;
  if (!r.last || row.t > r.last) r.last = row.t;
  layout.numeric.forEach((name, i) => {
    const agg = entry(r.numeric, name, emptyNumeric);
    const v = row.n[i];
    if (v !== null && v !== undefined && Number.isFinite(v)) addNumeric(agg, v);
  });
  layout.categorical.forEach((name, i) => {
    const agg = entry(r.categorical, name, emptyCategorical);
    const v = row.k[i];
    if (v !== null && v !== undefined) addCategorical(agg, v, layout.maxCategories);
  });
  if (row.x)
    for (const key in row.x) {
      const v = row.x[key];
      const type = v === null ? "null" : Array.isArray(v) ? "array" : typeof v;
      bump(
        entry(r.unknown, key, () => ({})),
        type,
        1,
      );
    }
  if (row.c !== null) {
    addNumeric(r.confidence, row.c);
    bump(
      entry(r.confidence.classes, row.p, () => ({})),
      String(confidenceBin(row.c)),
      1,
    );
  }
  addCategorical(r.prediction, row.p, layout.maxCategories);
  if (layout.regression && NUMBER.test(row.p)) {
    r.predictionNumeric ??= emptyNumeric();
    addNumeric(r.predictionNumeric, Number(row.p));
  }
  if (row.l !== undefined && row.l !== null) addLabelled(r, row.p, row.l, row.c, layout.regression);
}

/** Whether a stored prediction or label reads as a number (the same pattern as the raw-row SQL). */
export const isNumberText = (s: string): boolean => NUMBER.test(s);

/**
 * Adds (count = 1) or takes out (count = −1) the label of one prediction: into the regression
 * moments when the model is a regression and both read as numbers (continuous values would make
 * one label cell per distinct pair), else into the label cells.
 */
export function addLabelled(
  r: RollupData,
  prediction: string,
  label: string,
  confidence: number | null,
  regression: boolean,
  count = 1,
): void {
  if (regression && NUMBER.test(prediction) && NUMBER.test(label))
    addRegression(r, Number(prediction), Number(label), count);
  else addLabel(r, prediction, label, confidence, count);
}

/** The UTC minute a timestamp falls in. */
export function minuteOf(t: Date | string): Date {
  const ms = typeof t === "string" ? Date.parse(t) : t.getTime();
  return new Date(Math.floor(ms / 60_000) * 60_000);
}

/** The UTC hour a timestamp falls in. */
export function hourOf(t: Date): Date {
  return new Date(Math.floor(t.getTime() / 3_600_000) * 3_600_000);
}

/** Rows grouped into one rollup per (model version, minute): the deltas of one ingest batch. */
export function rollupBatch(
  rows: readonly (RollupRow & { v: string })[],
  layout: RollupLayout,
): Map<string, { version: string; bucket: Date; data: RollupData }> {
  const out = new Map<string, { version: string; bucket: Date; data: RollupData }>();
  for (const row of rows) {
    const bucket = minuteOf(row.t);
    const key = `${row.v}\u0000${bucket.getTime()}`;
    let entry = out.get(key);
    if (!entry) {
      entry = { version: row.v, bucket, data: emptyRollup() };
      out.set(key, entry);
    }
    addRow(entry.data, row, layout);
  }
  return out;
}
