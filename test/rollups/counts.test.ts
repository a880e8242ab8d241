/**
 * Dense counts (an offset and an array): the canonical form holds whatever order counts arrive
 * in, so equal contents are equal objects, and re-binning adds neighbours the way an aligned
 * histogram coarsens.
 */
import { describe, expect, it } from "vitest";
import {
  countsAdd,
  countsFromPairs,
  countsMerge,
  countsNonZero,
  countsRebin,
  countsTotal,
  emptyCounts,
} from "../../src/rollups/counts.js";

describe("dense counts", () => {
  it("grow on both sides and keep no zero at either end", () => {
    const s = emptyCounts();
    countsAdd(s, 5, 2);
    countsAdd(s, 2, 1);
    countsAdd(s, 8, 3);
    expect(s).toEqual({ offset: 2, counts: [1, 0, 0, 2, 0, 0, 3] });
    countsAdd(s, 2, -1);
    countsAdd(s, 8, -3);
    expect(s).toEqual({ offset: 5, counts: [2] });
    countsAdd(s, 5, -2);
    expect(s).toEqual(emptyCounts());
  });

  it("merged in any order, give the same object as counting everything into one", () => {
    const pieces = [
      countsFromPairs([-3, -1, 4], [1, 2, 3]),
      countsFromPairs([10, 0], [5, 1]),
      countsFromPairs([-7], [2]),
    ];
    const whole = countsFromPairs([-3, -1, 4, 10, 0, -7], [1, 2, 3, 5, 1, 2]);
    for (const order of [
      [0, 1, 2],
      [2, 1, 0],
      [1, 0, 2],
    ]) {
      const m = emptyCounts();
      for (const i of order) countsMerge(m, pieces[i] as (typeof pieces)[number]);
      expect(m).toEqual(whole);
    }
    expect(countsTotal(whole)).toBe(14);
    expect(countsNonZero(whole)).toBe(6);
  });

  it("re-binned by a power of two, add each index into its floor (negatives round down)", () => {
    const s = countsFromPairs([-3, -2, -1, 0, 1, 2, 3], [1, 1, 1, 1, 1, 1, 1]);
    // ⌊k / 2⌋: −3 → −2, −2 → −1, −1 → −1, 0 → 0, 1 → 0, 2 → 1, 3 → 1.
    expect(countsRebin(s, 2)).toEqual({ offset: -2, counts: [1, 2, 2, 2] });
    const into = countsFromPairs([5], [4]);
    countsMerge(into, s, 4);
    expect(into).toEqual({ offset: -1, counts: [3, 4, 0, 0, 0, 0, 4] });
  });
});
