/**
 * A numeric column of a rollup: present values, exact moments and extremes, exact counts while
 * there are few distinct values, and two mergeable binnings. Part of the rollup document
 * (model.ts); depends on nothing but sketch.ts and counts.ts, so profile clients can copy it.
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

/** Exact value counts are kept for numeric columns with at most this many distinct values. */
export const EXACT_VALUES_MAX = 32;

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

/** Adds `count` to a value's count, dropping it at zero. */
export function bump(map: Record<string, number>, key: string, count: number): void {
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

/**
 * Adds one value to the moments and extremes only (no exact counts, no binnings): for a column
 * whose readers need its count, mean and spread alone, at a fraction of addNumeric's cost.
 */
export function addMoments(a: NumericAgg, x: number): void {
  a.n += 1;
  a.sum += x;
  a.sumsq += x * x;
  if (a.min === null || x < a.min) a.min = x;
  if (a.max === null || x > a.max) a.max = x;
  a.values = null;
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
