/**
 * The rollup formats the bot reads. Format 2 keeps each binning's counts dense (an offset and an
 * array, counts.ts); format 1, written by earlier releases and still accepted from profile
 * clients, kept them as JSON objects keyed by bucket index. Everything else is the same. Stored
 * rollups and deltas of format 1 are never rewritten in bulk: every reader decodes them as it
 * reads them, and the folder writes format 2 whenever it touches a bucket.
 */
import { countsFromPairs, type DenseCounts, trimCounts } from "./counts.js";
import type { NumericAgg, RegressionAgg, RollupData } from "./model.js";
import { MAX_BINS, SKETCH_INDEX_MAX, SKETCH_INDEX_MIN } from "./sketch.js";

/** A numeric column in format 1: the binnings' counts keyed by index. */
export interface KeyedNumericAgg extends Omit<NumericAgg, "sketch" | "aligned"> {
  sketch: { zero: number; pos: Record<string, number>; neg: Record<string, number> };
  aligned: { exp: number; bins: Record<string, number> };
}

/** A rollup in format 1. */
export interface RollupDataV1
  extends Omit<RollupData, "format" | "numeric" | "confidence" | "predictionNumeric" | "regression"> {
  format: 1;
  numeric: Record<string, KeyedNumericAgg>;
  confidence: KeyedNumericAgg & { classes: RollupData["confidence"]["classes"] };
  predictionNumeric: KeyedNumericAgg | null;
  regression?: (Omit<RegressionAgg, "residual"> & { residual: KeyedNumericAgg }) | null;
}

/** A rollup document as stored or received: either format. */
export type AnyRollup = RollupData | RollupDataV1;

/**
 * A keyed map as parallel arrays, in one pass: format 1 keyed buckets by negative indices too,
 * which makes V8 keep such objects as dictionaries, and each walk over their keys is slow.
 */
function pairs(keyed: Record<string, number>): { indices: number[]; counts: number[] } {
  const keys = Object.keys(keyed);
  const indices: number[] = [];
  const counts: number[] = [];
  for (const k of keys) {
    indices.push(Number(k));
    counts.push(keyed[k] as number);
  }
  return { indices, counts };
}

/** Keyed sketch counts, indices clamped to those a finite value can have. */
function sketchCounts(keyed: Record<string, number>): DenseCounts {
  const p = pairs(keyed);
  // Only a hand-made profile could hold an index outside; it is kept at the nearest real bucket
  // rather than spread into an array of tens of thousands of zeros.
  const indices = p.indices.map((i) => Math.min(SKETCH_INDEX_MAX, Math.max(SKETCH_INDEX_MIN, i)));
  return countsFromPairs(indices, p.counts);
}

/** Keyed aligned bins, coarsened when they span MAX_BINS or more (only a hand-made profile does). */
function alignedCounts(h: KeyedNumericAgg["aligned"]): { exp: number; bins: DenseCounts } {
  const p = pairs(h.bins);
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const i of p.indices) {
    lo = Math.min(lo, i);
    hi = Math.max(hi, i);
  }
  let shift = 0;
  while (lo <= hi && Math.floor(hi / 2 ** shift) - Math.floor(lo / 2 ** shift) >= MAX_BINS) shift++;
  const indices = shift === 0 ? p.indices : p.indices.map((i) => Math.floor(i / 2 ** shift));
  return { exp: h.exp + shift, bins: countsFromPairs(indices, p.counts) };
}

function numericV2(a: KeyedNumericAgg): NumericAgg {
  return {
    ...a,
    sketch: { zero: a.sketch.zero, pos: sketchCounts(a.sketch.pos), neg: sketchCounts(a.sketch.neg) },
    aligned: alignedCounts(a.aligned),
  };
}

function canonical(a: NumericAgg): NumericAgg {
  trimCounts(a.sketch.pos);
  trimCounts(a.sketch.neg);
  trimCounts(a.aligned.bins);
  return a;
}

/**
 * The rollup in format 2. A format-2 document is returned itself (its stores trimmed to the
 * canonical form); a format-1 one is converted into a new document.
 */
export function decodeRollup(doc: AnyRollup): RollupData {
  if (doc.format !== 1) {
    for (const k in doc.numeric) canonical(doc.numeric[k] as NumericAgg);
    canonical(doc.confidence);
    if (doc.predictionNumeric) canonical(doc.predictionNumeric);
    if (doc.regression) canonical(doc.regression.residual);
    return doc;
  }
  const numeric: Record<string, NumericAgg> = {};
  for (const k in doc.numeric) numeric[k] = numericV2(doc.numeric[k] as KeyedNumericAgg);
  return {
    ...doc,
    format: 2,
    numeric,
    confidence: { ...numericV2(doc.confidence), classes: doc.confidence.classes },
    predictionNumeric: doc.predictionNumeric ? numericV2(doc.predictionNumeric) : null,
    regression: doc.regression ? { ...doc.regression, residual: numericV2(doc.regression.residual) } : null,
  };
}
