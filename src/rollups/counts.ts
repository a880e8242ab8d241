/**
 * Counts over consecutive integer indices, kept dense: `counts[i]` is the count of index
 * `offset + i`. The rollup's binnings (DDSketch buckets, aligned-histogram bins) are stored this
 * way because their indices are contiguous in practice (a sketch side spans the data's range in
 * steps of 2%, an aligned histogram at most 512 bins), and because an array of numbers parses
 * and adds several times faster than an object keyed by index, which is what a monitor reading
 * a day of rollups spends its time on.
 *
 * Canonical form: no zero at either end, and an empty store is `{ offset: 0, counts: [] }`, so
 * two stores with the same counts are equal objects (merging in any order gives the same one).
 */

/** Counts of the indices offset, offset + 1, …, offset + counts.length − 1. */
export interface DenseCounts {
  offset: number;
  counts: number[];
}

/** An empty store. */
export const emptyCounts = (): DenseCounts => ({ offset: 0, counts: [] });

function zeros(n: number): number[] {
  // Pushed rather than `new Array(n)`, so the array stays packed (faster to index).
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(0);
  return out;
}

/** Widens `s` with zeros so that it covers [lo, hi]. */
function cover(s: DenseCounts, lo: number, hi: number): void {
  const c = s.counts;
  if (c.length === 0) {
    s.offset = lo;
    s.counts = zeros(hi - lo + 1);
    return;
  }
  if (lo < s.offset) {
    const grown = zeros(s.offset - lo);
    for (let i = 0; i < c.length; i++) grown.push(c[i] as number);
    s.counts = grown;
    s.offset = lo;
  }
  const end = s.offset + s.counts.length - 1;
  for (let i = end; i < hi; i++) s.counts.push(0);
}

/** Drops zeros at both ends (the canonical form). */
export function trimCounts(s: DenseCounts): void {
  const c = s.counts;
  let lo = 0;
  let hi = c.length;
  while (lo < hi && c[lo] === 0) lo++;
  while (hi > lo && c[hi - 1] === 0) hi--;
  if (lo === 0 && hi === c.length) return;
  if (lo === hi) {
    s.offset = 0;
    s.counts = [];
    return;
  }
  s.counts = c.slice(lo, hi);
  s.offset += lo;
}

/** Adds `count` (may be negative) at `index`. */
export function countsAdd(s: DenseCounts, index: number, count: number): void {
  if (count === 0) return;
  cover(s, index, index);
  const i = index - s.offset;
  const next = (s.counts[i] as number) + count;
  s.counts[i] = next;
  if (next === 0 && (i === 0 || i === s.counts.length - 1)) trimCounts(s);
}

/**
 * Adds `b` into `a`; with `shift` (a power of two) each index k of `b` lands in ⌊k / shift⌋ of
 * `a`, which is how an aligned histogram is re-binned into a coarser width.
 */
export function countsMerge(a: DenseCounts, b: DenseCounts, shift = 1): void {
  const bc = b.counts;
  if (bc.length === 0) return;
  const bo = b.offset;
  const lo = Math.floor(bo / shift);
  const hi = Math.floor((bo + bc.length - 1) / shift);
  cover(a, lo, hi);
  const ac = a.counts;
  const base = a.offset;
  if (shift === 1) {
    const d = bo - base;
    for (let i = 0; i < bc.length; i++) ac[d + i] = (ac[d + i] as number) + (bc[i] as number);
  } else
    for (let i = 0; i < bc.length; i++) {
      const j = Math.floor((bo + i) / shift) - base;
      ac[j] = (ac[j] as number) + (bc[i] as number);
    }
  if (ac[0] === 0 || ac[ac.length - 1] === 0) trimCounts(a);
}

/** The same counts re-binned: index k goes to ⌊k / shift⌋. */
export function countsRebin(s: DenseCounts, shift: number): DenseCounts {
  const out = emptyCounts();
  countsMerge(out, s, shift);
  return out;
}

/** The sum of the counts. */
export function countsTotal(s: DenseCounts): number {
  let n = 0;
  for (const c of s.counts) n += c;
  return n;
}

/** How many indices have a non-zero count. */
export function countsNonZero(s: DenseCounts): number {
  let n = 0;
  for (const c of s.counts) if (c !== 0) n++;
  return n;
}

/** A store from parallel arrays of indices and counts (indices in any order, repeats added). */
export function countsFromPairs(indices: readonly number[], counts: readonly number[]): DenseCounts {
  const s = emptyCounts();
  if (indices.length === 0) return s;
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const i of indices) {
    if (i < lo) lo = i;
    if (i > hi) hi = i;
  }
  cover(s, lo, hi);
  const c = s.counts;
  for (let j = 0; j < indices.length; j++) {
    const i = (indices[j] as number) - lo;
    c[i] = (c[i] as number) + (counts[j] as number);
  }
  trimCounts(s);
  return s;
}
