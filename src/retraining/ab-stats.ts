/**
 * The A/B tests of a canary: Welch's t-test from summary statistics (as
 * `scipy.stats.ttest_ind_from_stats(..., equal_var=False)`) and the two-proportion z-test (the
 * monitoring one). Checked against SciPy in test/retraining/ab-stats.test.ts.
 */
import { logGamma, twoProportionZTest } from "../monitoring/stats/index.js";

export { twoProportionZTest };

/** Summary of one arm's continuous metric. */
export interface ArmSummary {
  n: number;
  mean: number;
  /** Sample variance (n − 1 denominator). */
  variance: number;
}

/** A t statistic with its Welch–Satterthwaite degrees of freedom and two-sided p-value. */
export interface WelchResult {
  statistic: number;
  df: number;
  pValue: number;
}

const EPS = 1e-15;
const TINY = 1e-300;

/** Continued fraction of the incomplete beta (modified Lentz). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 10_000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPS) break;
  }
  return h;
}

/** The regularised incomplete beta function I_x(a, b). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const lnFront = logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log1p(-x);
  if (x < (a + 1) / (a + b + 2)) return (Math.exp(lnFront) * betaContinuedFraction(a, b, x)) / a;
  return 1 - (Math.exp(lnFront) * betaContinuedFraction(b, a, 1 - x)) / b;
}

/** P(|T| ≥ |t|) for Student's t with `df` degrees of freedom. */
export function studentTTwoSidedP(t: number, df: number): number {
  if (!Number.isFinite(t)) return 0;
  return incompleteBeta(df / (df + t * t), df / 2, 0.5);
}

/**
 * Welch's unequal-variance t-test of mean(a) − mean(b). Both arms need n ≥ 2; two constant arms
 * with equal means give t = 0, p = 1 (SciPy answers NaN there; no difference is the useful reading).
 */
export function welchTTest(a: ArmSummary, b: ArmSummary): WelchResult {
  if (a.n < 2 || b.n < 2) return { statistic: 0, df: 0, pValue: 1 };
  const va = a.variance / a.n;
  const vb = b.variance / b.n;
  const se2 = va + vb;
  if (se2 === 0) {
    if (a.mean === b.mean) return { statistic: 0, df: a.n + b.n - 2, pValue: 1 };
    return { statistic: a.mean > b.mean ? Infinity : -Infinity, df: a.n + b.n - 2, pValue: 0 };
  }
  const t = (a.mean - b.mean) / Math.sqrt(se2);
  const df = (se2 * se2) / ((va * va) / (a.n - 1) + (vb * vb) / (b.n - 1));
  return { statistic: t, df, pValue: studentTTwoSidedP(t, df) };
}

/** Mean and sample variance of a list (for tests and small arms). */
export function summarize(values: readonly number[]): ArmSummary {
  const n = values.length;
  if (n === 0) return { n: 0, mean: 0, variance: 0 };
  const mean = values.reduce((s, v) => s + v, 0) / n;
  const variance = n > 1 ? values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1) : 0;
  return { n, mean, variance };
}
