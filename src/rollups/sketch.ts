/**
 * The mergeable summaries of one numeric column in a rollup bucket. Two binnings are kept because
 * each fails where the other works:
 * - a DDSketch (Masson, Rim & Lee, VLDB 2019) with relative accuracy α: value x > 0 lands in bucket
 *   ⌈log_γ x⌉ with γ = (1+α)/(1−α), negatives mirrored, |x| < MIN_INDEXABLE in a zero bucket.
 *   Any quantile it returns is within α of the true value, relative to that value: right for
 *   heavy tails (amounts, latencies), poor for a narrow range far from zero (latitude 40–41);
 * - an aligned histogram of width 2^k: value x lands in bin ⌊x / 2^k⌋, with k the smallest exponent
 *   that keeps the span within MAX_BINS. Its error is absolute (range / MAX_BINS): right for narrow
 *   ranges, poor for heavy tails. Two of them merge exactly: the finer is re-binned into the
 *   coarser by halving indices, which is what aligned power-of-two widths allow.
 * Readers ask both for intervals and use the one that splits less mass across the edges they need
 * (see `intervals` and `bestBinning`). Merging is adding counts, so order never matters. Both keep
 * their counts dense (counts.ts): an offset and an array.
 */
import { countsAdd, countsMerge, countsRebin, type DenseCounts, emptyCounts } from "./counts.js";

/** The sketch's relative accuracy: every quantile within 1% of the true value. */
export const SKETCH_ALPHA = 0.01;
const GAMMA = (1 + SKETCH_ALPHA) / (1 - SKETCH_ALPHA);
const LOG_GAMMA = Math.log(GAMMA);
/** Magnitudes below this count as zero in the sketch. */
export const MIN_INDEXABLE = 1e-9;
/** Most bins of the aligned histogram. */
export const MAX_BINS = 512;

/** A DDSketch: counts by bucket index, per sign, and the zero bucket. */
export interface Sketch {
  zero: number;
  pos: DenseCounts;
  neg: DenseCounts;
}

/** An aligned histogram: bin i covers [i·2^exp, (i+1)·2^exp). */
export interface AlignedHistogram {
  exp: number;
  bins: DenseCounts;
}

/** A half-open value interval [lo, hi) holding `count` values. */
export interface Interval {
  lo: number;
  hi: number;
  count: number;
}

/** An empty sketch. */
export const emptySketch = (): Sketch => ({ zero: 0, pos: emptyCounts(), neg: emptyCounts() });

/** An empty aligned histogram (the finest width a double can address usefully). */
export const emptyAligned = (): AlignedHistogram => ({ exp: -1074, bins: emptyCounts() });

/** The sketch bucket of |x| (≥ MIN_INDEXABLE). */
export function sketchIndex(magnitude: number): number {
  return Math.ceil(Math.log(magnitude) / LOG_GAMMA);
}

/** The lowest and highest sketch bucket a finite magnitude ≥ MIN_INDEXABLE can land in. */
export const SKETCH_INDEX_MIN = sketchIndex(MIN_INDEXABLE);
export const SKETCH_INDEX_MAX = sketchIndex(Number.MAX_VALUE);

/** Adds `count` occurrences of x to the sketch (count may be negative to take them out). */
export function sketchAdd(s: Sketch, x: number, count = 1): void {
  const m = Math.abs(x);
  if (m < MIN_INDEXABLE) {
    s.zero += count;
    return;
  }
  countsAdd(x > 0 ? s.pos : s.neg, sketchIndex(m), count);
}

/** Adds `b` into `a`. */
export function sketchMerge(a: Sketch, b: Sketch): void {
  a.zero += b.zero;
  countsMerge(a.pos, b.pos);
  countsMerge(a.neg, b.neg);
}

/** The sketch's buckets as value intervals, ascending. */
export function sketchIntervals(s: Sketch): Interval[] {
  const out: Interval[] = [];
  // Negative bucket i covers [−γ^i, −γ^(i−1)): the highest index is the lowest value.
  const neg = s.neg.counts;
  for (let j = neg.length - 1; j >= 0; j--) {
    const count = neg[j] as number;
    const i = s.neg.offset + j;
    if (count !== 0) out.push({ lo: -(GAMMA ** i), hi: -(GAMMA ** (i - 1)), count });
  }
  if (s.zero) out.push({ lo: -MIN_INDEXABLE, hi: MIN_INDEXABLE, count: s.zero });
  const pos = s.pos.counts;
  for (let j = 0; j < pos.length; j++) {
    const count = pos[j] as number;
    const i = s.pos.offset + j;
    if (count !== 0) out.push({ lo: GAMMA ** (i - 1), hi: GAMMA ** i, count });
  }
  return out;
}

function alignedIndex(x: number, exp: number): number {
  return Math.floor(x / 2 ** exp);
}

function coarsen(h: AlignedHistogram, exp: number): void {
  if (exp <= h.exp) return;
  if (h.bins.counts.length > 0) h.bins = countsRebin(h.bins, 2 ** (exp - h.exp));
  h.exp = exp;
}

/** The smallest exponent whose bins cover [lo, hi] in at most MAX_BINS. */
function exponentFor(lo: number, hi: number, from: number): number {
  // Never finer than 2^-40 of the magnitude, so bin indices stay exact integers.
  const magnitude = Math.max(Math.abs(lo), Math.abs(hi), 2 ** -1000);
  let exp = Math.max(from, Math.floor(Math.log2(magnitude)) - 40);
  if (hi > lo) exp = Math.max(exp, Math.floor(Math.log2((hi - lo) / (MAX_BINS - 1))));
  while (alignedIndex(hi, exp) - alignedIndex(lo, exp) >= MAX_BINS) exp++;
  return exp;
}

/** Re-bins `h` so that [lo, hi] fits (lo/hi: the column's min and max, including new values). */
export function alignedFit(h: AlignedHistogram, lo: number, hi: number): void {
  coarsen(h, exponentFor(lo, hi, h.exp));
}

/** Adds `count` occurrences of x; the caller has fitted the histogram to x first. */
export function alignedAdd(h: AlignedHistogram, x: number, count = 1): void {
  countsAdd(h.bins, alignedIndex(x, h.exp), count);
}

/** Adds `b` into `a`, both already within the merged [lo, hi]. */
export function alignedMerge(a: AlignedHistogram, b: AlignedHistogram, lo: number, hi: number): void {
  const exp = exponentFor(lo, hi, Math.max(a.exp, b.exp));
  coarsen(a, exp);
  countsMerge(a.bins, b.bins, 2 ** (exp - b.exp));
}

/** The histogram's bins as value intervals, ascending. */
export function alignedIntervals(h: AlignedHistogram): Interval[] {
  const w = 2 ** h.exp;
  const out: Interval[] = [];
  const bins = h.bins.counts;
  for (let j = 0; j < bins.length; j++) {
    const count = bins[j] as number;
    const i = h.bins.offset + j;
    if (count !== 0) out.push({ lo: i * w, hi: (i + 1) * w, count });
  }
  return out;
}

/** Clamps intervals to the exact [min, max] of the data (the outermost bins are only that wide). */
export function clampIntervals(ivs: Interval[], min: number, max: number): Interval[] {
  return ivs.map((iv) => ({ lo: Math.max(iv.lo, min), hi: Math.min(iv.hi, max), count: iv.count }));
}

/** Mass of intervals that straddle one of `edges` (their share cannot be assigned exactly). */
export function straddleMass(ivs: readonly Interval[], edges: readonly number[]): number {
  let mass = 0;
  for (const iv of ivs) {
    if (iv.hi <= iv.lo) continue;
    // An edge e splits [lo, hi) when lo < e ≤ hi, except e = hi with hi the interval's open end.
    const first = lowerBound(edges, iv.lo);
    const e = edges[first];
    if (e !== undefined && e > iv.lo && e < iv.hi) mass += iv.count;
  }
  return mass;
}

/** First index i with edges[i] > x (edges ascending). */
function lowerBound(edges: readonly number[], x: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((edges[mid] as number) <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** width_bucket semantics: the number of edges ≤ x (0 below the first edge). */
export function bucketOf(edges: readonly number[], x: number): number {
  return lowerBound(edges, x);
}

/**
 * Spreads intervals over the bins of `edges` (bucket = edges ≤ value, as SQL's width_bucket):
 * an interval inside one bin goes there whole; one that straddles edges is split in proportion
 * to its overlap (values assumed uniform inside it). Returns counts and value sums per bin.
 */
export function spreadOverEdges(
  ivs: readonly Interval[],
  edges: readonly number[],
): { counts: number[]; sums: number[] } {
  const counts = new Array(edges.length + 1).fill(0);
  const sums = new Array(edges.length + 1).fill(0);
  for (const iv of ivs) {
    const a = bucketOf(edges, iv.lo);
    const b = bucketOf(edges, iv.hi > iv.lo ? iv.hi - (iv.hi - iv.lo) * 1e-12 : iv.lo);
    if (a === b || iv.hi <= iv.lo) {
      counts[a] += iv.count;
      sums[a] += iv.count * (iv.hi > iv.lo ? (iv.lo + iv.hi) / 2 : iv.lo);
      continue;
    }
    const width = iv.hi - iv.lo;
    for (let k = a; k <= b; k++) {
      const lo = k === 0 ? iv.lo : Math.max(iv.lo, edges[k - 1] as number);
      const hi = k === edges.length ? iv.hi : Math.min(iv.hi, edges[k] as number);
      if (hi <= lo) continue;
      const share = (iv.count * (hi - lo)) / width;
      counts[k] += share;
      sums[k] += share * ((lo + hi) / 2);
    }
  }
  return { counts, sums };
}

/** The q-quantile (0…1) of the intervals, interpolated linearly inside the interval that holds it. */
export function quantileOf(ivs: readonly Interval[], q: number): number | null {
  const total = ivs.reduce((s, iv) => s + iv.count, 0);
  if (total <= 0) return null;
  const rank = q * total;
  let seen = 0;
  for (const iv of ivs) {
    if (seen + iv.count >= rank) {
      const f = iv.count > 0 ? (rank - seen) / iv.count : 0;
      return iv.lo + (iv.hi - iv.lo) * Math.min(1, Math.max(0, f));
    }
    seen += iv.count;
  }
  const last = ivs[ivs.length - 1] as Interval;
  return last.hi;
}
