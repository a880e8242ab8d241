/**
 * The rollup's two binnings on their own: the DDSketch keeps every quantile within α = 1% of the
 * true value, the aligned histogram within one bin (range / 512); both merge to exactly what one
 * summary of all the values gives, in any order.
 */
import { describe, expect, it } from "vitest";
import { addNumeric, emptyNumeric, mergeNumeric, type NumericAgg } from "../../src/rollups/model.js";
import {
  alignedIntervals,
  MAX_BINS,
  quantileOf,
  SKETCH_ALPHA,
  sketchIntervals,
  spreadOverEdges,
} from "../../src/rollups/sketch.js";
import { normal, seeded } from "../helpers/monitoring.js";

const rand = seeded(5);

function exactQuantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number;
}

function summarise(values: number[]): NumericAgg {
  const a = emptyNumeric();
  for (const v of values) addNumeric(a, v);
  return a;
}

describe("DDSketch", () => {
  it("every quantile of a heavy-tailed column is within 1% of the true value (relative)", () => {
    const values = Array.from({ length: 20_000 }, () => Math.exp(3 + 2 * normal(rand)));
    const sorted = [...values].sort((a, b) => a - b);
    const ivs = sketchIntervals(summarise(values).sketch);
    for (let q = 0.01; q < 1; q += 0.01) {
      const want = exactQuantile(sorted, q);
      // The bucket holding the rank has bounds within α of every value in it.
      const got = quantileOf(ivs, q) as number;
      expect(Math.abs(got - want) / want).toBeLessThanOrEqual(2 * SKETCH_ALPHA + 1e-9);
    }
  });
  it("handles negative values and zero", () => {
    const values = [-5, -1, 0, 0, 1e-12, 2, 10];
    const ivs = sketchIntervals(summarise(values).sketch);
    expect(ivs.reduce((s, iv) => s + iv.count, 0)).toBe(values.length);
    expect((ivs[0] as { lo: number }).lo).toBeLessThan(-5 * (1 - SKETCH_ALPHA));
  });
});

describe("aligned histogram", () => {
  it("keeps a narrow range far from zero to range / 512", () => {
    const values = Array.from({ length: 5000 }, () => 40 + rand());
    const a = summarise(values);
    const ivs = alignedIntervals(a.aligned);
    expect(ivs.length).toBeLessThanOrEqual(MAX_BINS);
    expect((ivs[0] as { hi: number; lo: number }).hi - (ivs[0] as { lo: number }).lo).toBeLessThanOrEqual(
      2 / MAX_BINS,
    );
  });
});

describe("merging", () => {
  it("merging pieces in any order equals summarising all values at once", () => {
    const values = Array.from({ length: 3000 }, (_, i) =>
      i < 1500 ? normal(rand) : 100 + normal(rand) * 50,
    );
    const whole = summarise(values);
    const pieces = [values.slice(0, 700), values.slice(700, 2100), values.slice(2100)].map(summarise);
    for (const order of [
      [0, 1, 2],
      [2, 0, 1],
      [1, 2, 0],
    ]) {
      const m = emptyNumeric();
      for (const i of order) mergeNumeric(m, pieces[i] as NumericAgg);
      expect(m.n).toBe(whole.n);
      expect(m.min).toBe(whole.min);
      expect(m.max).toBe(whole.max);
      expect(m.sketch).toEqual(whole.sketch);
      expect(m.aligned).toEqual(whole.aligned);
      expect(m.sum).toBeCloseTo(whole.sum, 6);
    }
  });
  it("spreads a bin that straddles an edge in proportion to its overlap", () => {
    const { counts } = spreadOverEdges([{ lo: 0, hi: 4, count: 8 }], [1]);
    expect(counts).toEqual([2, 6]);
  });
});
