/**
 * The rollup of one bucket (model × model version × time bucket × segment): every aggregate the
 * monitors read, in one JSON document. It is also the public profile format that
 * `POST /api/v1/models/:model/profiles` accepts (see docs/rollups.md), so a fleet can send one
 * per pod per minute instead of rows. Everything in it merges by addition, so buckets combine in
 * any order and a late label is one more delta. Documents of the earlier format 1 are read
 * through format.ts.
 */

import { addClassLabel, addProbabilities, type ClassCells, mergeClassCells } from "./class-cells.js";
import { addMoments, addNumeric, bump, emptyNumeric, mergeNumeric, type NumericAgg } from "./numeric.js";
import { addResidual, emptyRegression, mergeRegression, type RegressionAgg } from "./regression.js";

export {
  addClassLabel,
  addProbabilities,
  CLASS_BINS,
  type ClassCell,
  type ClassCells,
  type ClassCellsAgg,
  classBin,
  classCellRows,
  MAX_CLASSES,
  mergeClassCells,
} from "./class-cells.js";
export {
  addNumeric,
  EXACT_VALUES_MAX,
  emptyNumeric,
  mergeNumeric,
  type NumericAgg,
} from "./numeric.js";
export { addResidual, emptyRegression, mergeRegression, type RegressionAgg } from "./regression.js";

/** The version of the rollup / profile format this code writes (2: binnings as dense counts). */
export const ROLLUP_FORMAT = 2;
/** Confidence is counted in bins of this width (so a threshold with 3 decimals is exact). */
export const CONFIDENCE_BINS = 1000;
/** Default cap of distinct values per categorical column; the rest is counted as `(other)`. */
export const DEFAULT_MAX_CATEGORIES = 1000;
/** The label cell key of a prediction that had no confidence. */
export const NO_CONFIDENCE = "-1";

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
  /**
   * Multiclass models whose rows carry `probabilities`: per class, bin of p_k and predicted-k or
   * not, the rows, Σp_k, labelled rows and rows truly k (class-cells.ts). Absent or null: none
   * (rollups written before the field have none; readers treat them as empty).
   */
  classCells?: ClassCells | null;
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

/** Adds (count = 1) or takes out (count = −1) one labelled regression row. */
export function addRegression(r: RollupData, prediction: number, label: number, count = 1): void {
  r.regression ??= emptyRegression();
  addResidual(r.regression, prediction, label, count);
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
  if (b.classCells) {
    a.classCells ??= {};
    mergeClassCells(a.classCells, b.classCells);
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
  /** A multiclass model's class probabilities (absent or null: none sent). */
  q?: Record<string, number> | null;
}

/** The feature layout a rollup is built with: names by slot (1-based) per type. */
export interface RollupLayout {
  numeric: readonly string[];
  categorical: readonly string[];
  regression: boolean;
  maxCategories: number;
  /**
   * Numeric columns (by index in `numeric`) rolled up as moments and extremes only: derived scores
   * read for their mean alone (the PCA's squared residuals).
   */
  momentsOnly?: readonly boolean[];
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
    if (v !== null && v !== undefined && Number.isFinite(v)) {
      if (layout.momentsOnly?.[i]) addMoments(agg, v);
      else addNumeric(agg, v);
    }
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
  if (row.q) {
    r.classCells ??= {};
    addProbabilities(r.classCells, row.q, row.p, row.l ?? null);
  }
  if (row.l !== undefined && row.l !== null) addLabelled(r, row.p, row.l, row.c, layout.regression);
}

/** Whether a stored prediction or label reads as a number (the same pattern as the raw-row SQL). */
export const isNumberText = (s: string): boolean => NUMBER.test(s);

/**
 * Adds (count = 1) or takes out (count = −1) the label of one prediction: into the regression
 * moments when the model is a regression and both read as numbers (continuous values would make
 * one label cell per distinct pair), else into the label cells. A late label of a row with class
 * `probabilities` also moves its class cells' labelled counts (at ingest, addRow counts those).
 */
export function addLabelled(
  r: RollupData,
  prediction: string,
  label: string,
  confidence: number | null,
  regression: boolean,
  count = 1,
  probabilities?: Record<string, number> | null,
): void {
  if (regression && NUMBER.test(prediction) && NUMBER.test(label))
    addRegression(r, Number(prediction), Number(label), count);
  else addLabel(r, prediction, label, confidence, count);
  if (probabilities) {
    r.classCells ??= {};
    addClassLabel(r.classCells, probabilities, prediction, label, count);
  }
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
