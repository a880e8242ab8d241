import type { DenseCounts } from "../../src/rollups/counts.js";
import type { KeyedNumericAgg, RollupDataV1 } from "../../src/rollups/format.js";
import type { NumericAgg, RollupData } from "../../src/rollups/model.js";

/** Dense counts keyed by index, as format 1 stored them. */
export function keyed(c: DenseCounts): Record<string, number> {
  const out: Record<string, number> = {};
  c.counts.forEach((n, i) => {
    if (n !== 0) out[String(c.offset + i)] = n;
  });
  return out;
}

function keyedNumeric(a: NumericAgg): KeyedNumericAgg {
  return {
    ...a,
    sketch: { zero: a.sketch.zero, pos: keyed(a.sketch.pos), neg: keyed(a.sketch.neg) },
    aligned: { exp: a.aligned.exp, bins: keyed(a.aligned.bins) },
  };
}

/** The rollup as the previous release wrote it (format 1), a deep copy. */
export function toFormat1(r: RollupData): RollupDataV1 {
  const copy = structuredClone(r);
  const numeric: Record<string, KeyedNumericAgg> = {};
  for (const [k, a] of Object.entries(copy.numeric)) numeric[k] = keyedNumeric(a);
  return {
    ...copy,
    format: 1,
    numeric,
    confidence: { ...keyedNumeric(copy.confidence), classes: copy.confidence.classes },
    predictionNumeric: copy.predictionNumeric ? keyedNumeric(copy.predictionNumeric) : null,
    regression: copy.regression
      ? { ...copy.regression, residual: keyedNumeric(copy.regression.residual) }
      : copy.regression,
  };
}
