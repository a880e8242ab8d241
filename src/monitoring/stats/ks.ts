/**
 * Two-sample Kolmogorov-Smirnov test, two-sided, as `scipy.stats.ks_2samp(method="auto")`:
 * exact p-value when both samples have at most 10,000 values, else the asymptotic one
 * (`kstwo.sf(D, round(n1·n2/(n1+n2)))`).
 */
import { kolmogorovSf } from "./kolmogorov.js";

/** A test result: the statistic and its p-value. */
export interface TestResult {
  statistic: number;
  pValue: number;
}

const MAX_EXACT_N = 10_000;

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** P(D >= h/n) for two samples of equal size n (SciPy's `_compute_prob_outside_square`). */
function probOutsideSquare(n: number, h: number): number {
  let P = 0;
  for (let k = Math.floor(n / h); k >= 0; k--) {
    let p1 = 1;
    for (let j = 0; j < h; j++) p1 = ((n - k * h - j) * p1) / (n + k * h + j + 1);
    P = p1 * (1 - P);
  }
  return 2 * P;
}

/**
 * P(D >= h/lcm) for sizes m and n: one minus the share of lattice paths from (0,0) to (m,n) that
 * stay strictly inside |x·n/g − y·m/g| < h. q(x,y) = (x·q(x−1,y) + y·q(x,y−1)) / (x+y) is the
 * share of paths to (x,y) still inside, so every value stays in [0, 1].
 */
function probOutsideBand(m: number, n: number, g: number, h: number): number {
  const mg = m / g;
  const ng = n / g;
  let prev = new Float64Array(n + 1);
  let cur = new Float64Array(n + 1);
  for (let y = 0; y <= n; y++) {
    if (y * mg >= h) break;
    prev[y] = 1;
  }
  for (let x = 1; x <= m; x++) {
    cur.fill(0);
    const lo = Math.max(0, Math.floor((x * ng - h) / mg) + 1);
    const hi = Math.min(n, Math.ceil((x * ng + h) / mg) - 1);
    let left = 0;
    for (let y = lo; y <= hi; y++) {
      if (Math.abs(x * ng - y * mg) >= h) {
        left = 0;
        continue;
      }
      const q = (x * (prev[y] as number) + y * left) / (x + y);
      cur[y] = q;
      left = q;
    }
    [prev, cur] = [cur, prev];
  }
  return 1 - (prev[n] as number);
}

/** The p-value of a two-sided KS statistic `d` between samples of sizes n1 and n2. */
export function ksPValue(d: number, n1: number, n2: number): number {
  if (n1 <= 0 || n2 <= 0) return Number.NaN;
  if (Math.max(n1, n2) <= MAX_EXACT_N) {
    const g = gcd(n1, n2);
    const lcm = (n1 / g) * n2;
    const h = Math.round(d * lcm);
    if (h === 0) return 1;
    const p =
      n1 === n2 ? probOutsideSquare(n1, h) : probOutsideBand(Math.max(n1, n2), Math.min(n1, n2), g, h);
    if (p >= 0 && p <= 1) return p;
  }
  const [m, n] = n1 >= n2 ? [n1, n2] : [n2, n1];
  return Math.min(1, Math.max(0, kolmogorovSf(Math.round((m * n) / (m + n)), d)));
}

/** KS test on raw samples: D = max |F1 − F2| over every observed value. */
export function ksTwoSample(a: readonly number[], b: readonly number[]): TestResult {
  const x = Float64Array.from(a).sort();
  const y = Float64Array.from(b).sort();
  const n1 = x.length;
  const n2 = y.length;
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < n1 && j < n2) {
    const v = Math.min(x[i] as number, y[j] as number);
    while (i < n1 && x[i] === v) i++;
    while (j < n2 && y[j] === v) j++;
    d = Math.max(d, Math.abs(i / n1 - j / n2));
  }
  return { statistic: d, pValue: ksPValue(d, n1, n2) };
}

/**
 * KS test on two histograms over the same ordered bins (the SQL path): D is evaluated at the bin
 * edges only, so it never exceeds the raw-sample D and the test errs on the side of silence.
 */
export function ksBinned(refCounts: readonly number[], curCounts: readonly number[]): TestResult {
  const n1 = refCounts.reduce((s, c) => s + c, 0);
  const n2 = curCounts.reduce((s, c) => s + c, 0);
  let f1 = 0;
  let f2 = 0;
  let d = 0;
  for (let k = 0; k < refCounts.length; k++) {
    f1 += refCounts[k] as number;
    f2 += (curCounts[k] as number) ?? 0;
    d = Math.max(d, Math.abs(f1 / n1 - f2 / n2));
  }
  return { statistic: d, pValue: ksPValue(d, Math.round(n1), Math.round(n2)) };
}
