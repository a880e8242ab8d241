/** Chi-square goodness of fit and the two-proportion z-test, as SciPy computes them. */
import type { TestResult } from "./ks.js";
import { chiSquareSf, normalTwoSidedP } from "./special.js";

/**
 * Chi-square test of current category counts against the reference: categories are the union of
 * both, expected_k = ref_k · n_cur / n_ref, dof = k − 1 (`scipy.stats.chisquare(cur, expected)`).
 * A category the reference never saw has expected 0: statistic ∞, p-value 0.
 */
export function chiSquareTest(
  ref: ReadonlyMap<string, number>,
  cur: ReadonlyMap<string, number>,
): TestResult {
  const keys = new Set([...ref.keys(), ...cur.keys()]);
  const nRef = [...ref.values()].reduce((s, c) => s + c, 0);
  const nCur = [...cur.values()].reduce((s, c) => s + c, 0);
  if (nRef === 0 || nCur === 0 || keys.size < 2) return { statistic: 0, pValue: 1 };
  let stat = 0;
  for (const k of keys) {
    const expected = ((ref.get(k) ?? 0) * nCur) / nRef;
    const observed = cur.get(k) ?? 0;
    if (expected === 0) {
      if (observed > 0) return { statistic: Number.POSITIVE_INFINITY, pValue: 0 };
      continue;
    }
    stat += (observed - expected) ** 2 / expected;
  }
  return { statistic: stat, pValue: chiSquareSf(stat, keys.size - 1) };
}

/**
 * Two-proportion z-test: P = (x1 + x2)/(n1 + n2), z = (p1 − p2)/√(P(1−P)(1/n1 + 1/n2)),
 * p = 2(1 − Φ(|z|)). Equal proportions of 0 or 1 give z = 0, p = 1.
 */
export function twoProportionZTest(x1: number, n1: number, x2: number, n2: number): TestResult {
  const p1 = x1 / n1;
  const p2 = x2 / n2;
  const pooled = (x1 + x2) / (n1 + n2);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  if (se === 0) return { statistic: 0, pValue: 1 };
  const z = (p1 - p2) / se;
  return { statistic: z, pValue: normalTwoSidedP(z) };
}
