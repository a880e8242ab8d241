import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  compareArms,
  studentTTwoSidedP,
  summarize,
  twoProportionZTest,
  welchTTest,
} from "../../src/retraining/index.js";

// Reference values from SciPy: test/retraining/fixtures/generate.py wrote ab-stats.json.
// biome-ignore lint/suspicious/noExplicitAny: fixture JSON written by the Python generator
const fx: any = JSON.parse(readFileSync(new URL("./fixtures/ab-stats.json", import.meta.url), "utf8"));

function close(actual: number, expected: number, rel: number, abs = 1e-12): void {
  expect(Math.abs(actual - expected), `${actual} vs ${expected}`).toBeLessThanOrEqual(
    abs + rel * Math.abs(expected),
  );
}

describe("the canary's A/B statistics match SciPy on the committed fixtures", () => {
  it("the fixtures come from the generator, with every case family present", () => {
    expect(fx.generator).toBe("test/retraining/fixtures/generate.py");
    expect(fx.welch.length).toBeGreaterThanOrEqual(8);
    expect(fx.ztest.length).toBeGreaterThanOrEqual(6);
  });

  for (const c of fx.welch) {
    it(`Welch t-test: ${c.name} (t, df and p as scipy.stats.ttest_ind(equal_var=False))`, () => {
      const r = welchTTest(c.a, c.b);
      close(r.statistic, c.statistic, 1e-9);
      close(r.df, c.df, 1e-9);
      close(r.pValue, c.pvalue, 1e-8, 1e-15);
      if (c.samples) {
        const a = summarize(c.samples.a);
        close(a.mean, c.a.mean, 1e-12);
        close(a.variance, c.a.variance, 1e-10);
      }
    });
  }

  for (const c of fx.ztest) {
    it(`two-proportion z-test: ${c.name} (z² and p as the 2×2 chi-square without correction)`, () => {
      const r = twoProportionZTest(c.x1, c.n1, c.x2, c.n2);
      close(r.statistic, c.z, 1e-9);
      close(r.pValue, c.pvalue, 1e-8, 1e-15);
    });
  }

  it("Student's t two-sided tail matches scipy.stats.t.sf", () => {
    for (const c of fx.t_two_sided) close(studentTTwoSidedP(c.t, c.df), c.p, 1e-9, 1e-15);
  });
});

describe("comparing the arms of a canary", () => {
  const opts = {
    championVersion: "v1",
    challengerVersion: "v2",
    minSamplePerArm: 200,
    alpha: 0.05,
    regression: false,
  };
  const arm = (version: string, n: number, labelled: number, errors: number, confMean = 0.85) => ({
    version,
    n,
    confidence: { n, mean: confMean, variance: 0.01 },
    lowConfidence: Math.round(n * 0.1),
    labelled,
    errors,
    absError: null,
  });

  it("with fewer than the minimum per arm, no verdict and no tests", () => {
    const k = compareArms(arm("v1", 1000, 1000, 100), arm("v2", 150, 150, 5), opts);
    expect(k.enoughSample).toBe(false);
    expect(k.verdict).toBe("insufficient_sample");
    expect(k.tests).toEqual([]);
  });

  it("with labels on both arms, the error rates decide through the z-test", () => {
    const k = compareArms(arm("v1", 2000, 2000, 200), arm("v2", 400, 400, 20), opts);
    expect(k.basis).toBe("labels");
    expect(k.tests[0]?.name).toBe("error rate");
    expect(k.verdict).toBe("challenger_better");
    const same = compareArms(arm("v1", 2000, 2000, 200), arm("v2", 400, 400, 40), opts);
    expect(same.verdict).toBe("no_difference");
  });

  it("without enough labels, confidence stands in: a less confident challenger is flagged worse", () => {
    const k = compareArms(arm("v1", 2000, 0, 0, 0.85), arm("v2", 400, 0, 0, 0.7), opts);
    expect(k.basis).toBe("proxies");
    expect(k.tests.map((t) => t.name)).toEqual(["mean confidence", "low-confidence share"]);
    expect(k.verdict).toBe("challenger_worse");
  });
});
