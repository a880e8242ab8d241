import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { domainClassifierAuc } from "../../src/monitoring/stats/domain-classifier.js";
import {
  embeddingScores,
  embeddingScoresInto,
  fitEmbedding,
  packEmbedding,
} from "../../src/monitoring/stats/embedding.js";
import { encodeRow, frequencyTable } from "../../src/monitoring/stats/multivariate-encoding.js";
import {
  errorShares,
  fitPca,
  reconstructionError,
  squaredResiduals,
} from "../../src/monitoring/stats/pca.js";
import { normal, seeded } from "../helpers/monitoring.js";

// Reference values from NumPy (test/monitoring/fixtures/pca.py). Tolerance: 1e-9 absolute on
// every number; components are compared up to sign (an eigenvector's sign is arbitrary).
const fx = JSON.parse(readFileSync(new URL("./fixtures/pca.json", import.meta.url), "utf8"));
const TOL = 1e-9;

function expectClose(actual: readonly number[], expected: readonly number[]) {
  expect(actual).toHaveLength(expected.length);
  for (const [i, a] of actual.entries()) expect(Math.abs(a - (expected[i] as number))).toBeLessThan(TOL);
}

function expectSameDirection(actual: readonly number[], expected: readonly number[]) {
  const dot = actual.reduce((s, a, i) => s + a * (expected[i] as number), 0);
  expectClose(
    actual.map((a) => a * Math.sign(dot)),
    expected,
  );
}

describe("PCA reconstruction error against NumPy", () => {
  const fit = fitPca(fx.pca.columns, fx.pca.reference, fx.pca.variance);

  it("standardises with the population σ and a scale of 1 for a constant column", () => {
    expectClose(fit.mean, fx.pca.mean);
    expectClose(fit.scale, fx.pca.scale);
    expect(fit.scale[4]).toBe(1);
  });

  it("keeps the components that explain more than 65% of the variance, as scikit-learn does", () => {
    expect(fit.components).toHaveLength(fx.pca.components.length);
    expectClose(fit.explained, fx.pca.explained);
    for (const [i, c] of fit.components.entries()) expectSameDirection(c, fx.pca.components[i]);
  });

  it("gives each reference and current row NumPy's reconstruction error", () => {
    expectClose(
      fx.pca.reference.map((r: number[]) => reconstructionError(fit, r)),
      fx.pca.referenceErrors,
    );
    expectClose(
      fx.pca.current.map((r: number[]) => reconstructionError(fit, r)),
      fx.pca.currentErrors,
    );
  });
});

describe("embedding scores against NumPy", () => {
  const fit = fitEmbedding(fx.embedding.reference, 2);

  it("has the reference centroid and first two principal directions", () => {
    expectClose(fit.centroid, fx.embedding.centroid);
    expectClose(fit.explained, fx.embedding.explained);
    for (const [i, c] of fit.components.entries()) expectSameDirection(c, fx.embedding.components[i]);
  });

  it("scores a vector by its distance to the centroid and its projections (up to sign)", () => {
    fx.embedding.probe.forEach((v: number[], i: number) => {
      const [distance, ...proj] = embeddingScores(fit, v);
      expect(Math.abs((distance as number) - fx.embedding.distances[i])).toBeLessThan(TOL);
      proj.forEach((p, j) => {
        const expected = fx.embedding.projections[i][j];
        const sign = Math.sign(
          fit.components[j]?.reduce((s, w, k) => s + w * fx.embedding.components[j][k], 0) ?? 1,
        );
        expect(Math.abs(p * sign - expected)).toBeLessThan(TOL);
      });
    });
  });
});

describe("the ingest scorer's packed embedding scores", () => {
  it("equal embeddingScores on the NumPy probes, read from one flat batch array at each row's offset", () => {
    const fit = fitEmbedding(fx.embedding.reference, 2);
    const packed = packEmbedding(fit);
    const probes = fx.embedding.probe as number[][];
    const d = fit.dimensions;
    const flat = new Float64Array(probes.length * d);
    probes.forEach((v, i) => {
      flat.set(v, i * d);
    });
    const out = new Float64Array(3);
    probes.forEach((v, i) => {
      embeddingScoresInto(packed, flat, i * d, out);
      expectClose(Array.from(out), embeddingScores(fit, v));
    });
  });
});

describe("frequency encoding of categoricals", () => {
  it("maps a value to its reference share, an unseen one to 0 and a missing one to the fill", () => {
    const freq = frequencyTable(["DE", "DE", "FR", null, "DE"]);
    expect(freq).toEqual({ DE: 0.75, FR: 0.25 });
    const cols = [
      { name: "amount", kind: "numeric" as const, fill: 10 },
      { name: "country", kind: "categorical" as const, fill: 0.5, frequencies: freq },
    ];
    expect(encodeRow(cols, [3, "FR"])).toEqual([3, 0.25]);
    expect(encodeRow(cols, [null, "XX"])).toEqual([10, 0]);
    expect(encodeRow(cols, [1, null])).toEqual([1, 0.5]);
  });
});

describe("error shares name the features whose residual grew", () => {
  it("points at the pair whose correlation broke", () => {
    const rand = seeded(7);
    const ref = Array.from({ length: 800 }, () => {
      const a = normal(rand);
      const b = normal(rand);
      return [a, a + 0.1 * normal(rand), b, normal(rand)];
    });
    const fit = fitPca(["x1", "x2", "y", "z"], ref);
    const cur = Array.from({ length: 400 }, () => [normal(rand), normal(rand), normal(rand), normal(rand)]);
    const top = errorShares(fit, squaredResiduals(fit, cur))
      .slice(0, 2)
      .map((s) => s.column);
    expect(new Set(top)).toEqual(new Set(["x1", "x2"]));
  });
});

describe("domain classifier", () => {
  const rand = seeded(11);
  const sample = (n: number, shift: number) =>
    Array.from({ length: n }, () => Array.from({ length: 16 }, (_, j) => normal(rand) + (j < 4 ? shift : 0)));

  it("cannot tell two samples of one distribution apart (AUC near 0.5)", () => {
    const auc = domainClassifierAuc(sample(400, 0), sample(400, 0)) as number;
    expect(auc).toBeLessThan(0.55);
    expect(auc).toBeGreaterThan(0.4);
  });

  it("tells a shifted sample apart (AUC above 0.55)", () => {
    expect(domainClassifierAuc(sample(400, 0), sample(400, 0.4)) as number).toBeGreaterThan(0.6);
  });

  it("gives no answer when a side has fewer rows than folds", () => {
    expect(domainClassifierAuc(sample(3, 0), sample(400, 0))).toBeNull();
  });
});
