import { describe, expect, it } from "vitest";
import { evaluateMultivariate } from "../../src/monitoring/monitors/multivariate.js";
import { judgeScore, RECONSTRUCTION_COLUMN } from "../../src/monitoring/monitors/multivariate-rules.js";
import {
  derivedColumns,
  fitMultivariate,
  type MultivariateProfile,
  scoreRow,
  type VectorRow,
} from "../../src/monitoring/multivariate-profile.js";
import { reconstructionError, squaredResiduals } from "../../src/monitoring/stats/pca.js";
import { addNumeric, emptyNumeric } from "../../src/rollups/numeric.js";
import { normal, seeded } from "../helpers/monitoring.js";

// amount and fee move together; channel decides the size of age. A vector of 6 dimensions.
const FEATURES = [
  { name: "amount", type: "numeric" as const, slot: 1 },
  { name: "fee", type: "numeric" as const, slot: 2 },
  { name: "age", type: "numeric" as const, slot: 3 },
  { name: "channel", type: "categorical" as const, slot: 1 },
];

function rows(seed: number, n: number, coupled: boolean): VectorRow[] {
  const rand = seeded(seed);
  return Array.from({ length: n }, () => {
    const a = normal(rand);
    const channel = rand() < 0.7 ? "pos" : "web";
    const age = (channel === "pos") === coupled ? 40 + 5 * normal(rand) : 20 + 5 * normal(rand);
    return {
      n: [100 + 10 * a, coupled ? 2 + 0.2 * a + 0.02 * normal(rand) : 2 + 0.2 * normal(rand), age],
      k: [channel],
      e: { text: Array.from({ length: 6 }, () => normal(rand)) },
    };
  });
}

function windowMean(p: MultivariateProfile, rs: readonly VectorRow[], column: string) {
  const i = derivedColumns(p).indexOf(column);
  const agg = emptyNumeric();
  for (const r of rs) {
    const s = scoreRow(p, r)[i];
    if (s !== null && s !== undefined) addNumeric(agg, s);
  }
  return judgeScore(column, p.bands[column] ?? null, agg);
}

describe("the multivariate reference", () => {
  const profile = fitMultivariate(rows(1, 2000, true), FEATURES, ["text"]);

  it("names one reconstruction-error column and three columns per embedding, each with a band", () => {
    expect(derivedColumns(profile)).toEqual([
      RECONSTRUCTION_COLUMN,
      "text(distance)",
      "text(pc1)",
      "text(pc2)",
    ]);
    for (const c of derivedColumns(profile))
      expect(profile.bands[c]?.upper).toBeGreaterThan(profile.bands[c]?.lower as number);
  });

  it("frequency-encodes the categorical feature and survives being stored as JSON", () => {
    const channel = profile.columns.find((c) => c.name === "channel");
    expect(channel?.kind === "categorical" && channel.frequencies.pos).toBeCloseTo(0.7, 1);
    const stored = JSON.parse(JSON.stringify(profile)) as MultivariateProfile;
    const row = rows(2, 1, true)[0] as VectorRow;
    expect(scoreRow(stored, row)).toEqual(scoreRow(profile, row));
  });

  it("scores a missing or wrong-length vector as missing, and a missing feature at its reference mean", () => {
    const row = { n: [null, null, null], k: [null], e: { text: [1, 2, 3] } };
    const [error, ...embedding] = scoreRow(profile, row);
    expect(embedding).toEqual([null, null, null]);
    // Every column at its fill: the error is that of the reference's mean row.
    const fills = profile.columns.map((c) => c.fill);
    expect(error).toBeCloseTo(reconstructionError(profile.pca as NonNullable<typeof profile.pca>, fills), 12);
  });

  it("stays inside its band on rows like the reference", () => {
    expect(windowMean(profile, rows(3, 500, true), RECONSTRUCTION_COLUMN).drifted).toBe(false);
  });

  it("leaves its band when amount and fee decouple and channel stops deciding age", () => {
    const judged = windowMean(profile, rows(4, 500, false), RECONSTRUCTION_COLUMN);
    expect(judged.drifted).toBe(true);
    expect(judged.value).toBeGreaterThan(judged.band?.upper as number);
  });
});

describe("evaluating a window against the multivariate reference", () => {
  const profile = fitMultivariate(rows(1, 2000, true), FEATURES, ["text"]);
  const columnsOf = (rs: readonly VectorRow[]) => {
    const names = derivedColumns(profile);
    const out: Record<string, { n: number; sum: number }> = {};
    for (const r of rs)
      scoreRow(profile, r).forEach((s, i) => {
        if (s === null || s === undefined) return;
        const name = names[i] as string;
        const c = out[name] ?? { n: 0, sum: 0 };
        out[name] = c;
        c.n++;
        c.sum += s;
      });
    return out;
  };

  it("finds nothing on rows like the reference", () => {
    const result = evaluateMultivariate(profile, columnsOf(rows(5, 600, true)));
    expect(result.judgements.map((j) => j.column)).toEqual(derivedColumns(profile));
    expect(result.findings).toEqual([]);
  });

  it("raises one finding on the reconstruction error that names the decoupled features", () => {
    const current = rows(6, 600, false);
    const pca = profile.pca as NonNullable<typeof profile.pca>;
    const encoded = current.map((r) =>
      profile.columns.map((c) => {
        const v = c.kind === "numeric" ? r.n[c.slot - 1] : r.k[c.slot - 1];
        return c.kind === "numeric" ? (v as number) : ((c.frequencies[v as string] ?? 0) as number);
      }),
    );
    const result = evaluateMultivariate(profile, columnsOf(current), squaredResiduals(pca, encoded));
    expect(result.findings.map((f) => f.subject)).toEqual([RECONSTRUCTION_COLUMN]);
    expect(result.findings[0]?.severityRule).toBe("drift_multivariate");
    expect(result.findings[0]?.title).toMatch(/^PCA reconstruction error rose to .*; it grew in /);
    expect(result.findings[0]?.rule).toMatch(/^learned band: outside the reference chunks' mean ± 3σ/);
  });

  it("judges nothing below 30 scored rows", () => {
    const result = evaluateMultivariate(profile, columnsOf(rows(6, 20, false)));
    expect(result.findings).toEqual([]);
    expect(result.judgements.every((j) => j.value === null)).toBe(true);
  });
});
