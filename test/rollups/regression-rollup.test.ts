/**
 * The regression part of the rollup document, pure: moments of labelled rows merge in any order to
 * NumPy's metrics (test/rollups/fixtures/regression.json, within 1e-9 relative), a document
 * without the field reads as no regression labels, format 1 converts, and client profiles carry it
 * only for regression models with counts that add up.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { regressionMetrics } from "../../src/monitoring/stats/index.js";
import { decodeRollup } from "../../src/rollups/format.js";
import {
  emptyRollup,
  labelledRows,
  mergeRollup,
  type RollupData,
  type RollupLayout,
  rollupBatch,
} from "../../src/rollups/model.js";
import { checkProfile, type Profile, rollupSchema } from "../../src/rollups/profile.js";
import { toFormat1 } from "../helpers/rollups.js";

const fixture = JSON.parse(readFileSync(new URL("./fixtures/regression.json", import.meta.url), "utf8")) as {
  reference: { label: number[]; prediction: number[] };
  expected: { reference: Record<"n" | "mae" | "rmse" | "mape" | "r2", number> };
};
const layout: RollupLayout = { numeric: [], categorical: [], regression: true, maxCategories: 1000 };
const T0 = Date.parse("2026-12-01T10:00:00Z");

/** The fixture's reference rows as minute rollups, one row every 7 s. */
function minutes(): RollupData[] {
  const rows = fixture.reference.prediction.map((p, i) => ({
    t: new Date(T0 + i * 7_000).toISOString(),
    v: "v1",
    p: String(p),
    c: null,
    n: [],
    k: [],
    x: null,
    l: String(fixture.reference.label[i]),
  }));
  return [...rollupBatch(rows, layout).values()].map((e) => e.data);
}

describe("regression moments in the rollup document", () => {
  it("minute rollups merged in any order give NumPy's MAE, RMSE, MAPE and R² within 1e-9", () => {
    const parts = minutes();
    expect(parts.length).toBeGreaterThan(300);
    const want = fixture.expected.reference;
    for (const order of [parts, [...parts].reverse()]) {
      const whole = order.reduce((a, b) => mergeRollup(a, b), emptyRollup());
      expect(whole.regression?.n).toBe(want.n);
      expect(labelledRows(whole)).toBe(want.n);
      expect(whole.labels).toEqual({});
      const got = regressionMetrics(whole.regression as NonNullable<RollupData["regression"]>);
      for (const k of ["mae", "rmse", "mape", "r2"] as const)
        expect(Math.abs((got[k] as number) - want[k])).toBeLessThanOrEqual(1e-9 * Math.abs(want[k]));
    }
  });

  it("a document written before regression moments reads as none, and merges with one that has them", () => {
    const old = emptyRollup() as Partial<RollupData>;
    delete old.regression;
    const parsed = rollupSchema.parse(old);
    const doc = decodeRollup(parsed as RollupData);
    expect(labelledRows(doc)).toBe(0);
    const [first] = minutes();
    mergeRollup(doc, first as RollupData);
    expect(doc.regression?.n).toBe(first?.regression?.n);
  });

  it("a format-1 document's residual converts to dense counts, numbers unchanged", () => {
    const [first] = minutes();
    const v1 = toFormat1(first as RollupData);
    const back = decodeRollup(rollupSchema.parse(v1) as never);
    expect(back.regression).toEqual(first?.regression);
  });

  it("a profile may carry regression moments for a regression model only, with counts that add up", () => {
    const [first] = minutes();
    const bucket = new Date(T0).toISOString();
    const profile: Profile = { id: "p", model_version: "v1", bucket, rollup: first as RollupData };
    const features = { numeric: new Set<string>(), categorical: new Set<string>() };
    expect(checkProfile(profile, { ...features, regression: true })).toBeNull();
    expect(checkProfile(profile, features)).toEqual({
      path: "rollup.regression",
      message: "only a regression model's profile holds regression moments",
    });
    const bad = structuredClone(first as RollupData);
    (bad.regression as NonNullable<RollupData["regression"]>).n += 1;
    expect(checkProfile({ ...profile, rollup: bad }, { ...features, regression: true })?.path).toBe(
      "rollup.regression.residual.n",
    );
  });
});
