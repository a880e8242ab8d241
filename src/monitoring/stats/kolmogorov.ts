/**
 * The two-sided one-sample Kolmogorov distribution for finite n (`scipy.stats.kstwo.sf`), which
 * `ks_2samp` uses for its asymptotic p-value. Ported from SciPy's `_ksstats.py` (Simard &
 * L'Ecuyer's choice of algorithm by region: Ruben-Gambino edges, Durbin's matrix (Marsaglia-
 * Tsang-Wang), Pelz-Good, and twice the exact one-sided Smirnov tail); Pomeranz's recursion is
 * replaced by Durbin's matrix, which is exact in the same region.
 */
import { logBinomial, logGamma } from "./special.js";

const E128 = 2 ** 128;
const EM128 = 2 ** -128;

function clip(p: number): number {
  return Math.min(1, Math.max(0, p));
}

/** Exact one-sided Smirnov tail P(D+_n >= d) (Birnbaum-Tingey sum, in logs). */
export function smirnovSf(n: number, d: number): number {
  if (d <= 0) return 1;
  if (d >= 1) return 0;
  const last = Math.floor(n * (1 - d) + 1e-12);
  let sum = 0;
  let peak = Number.NEGATIVE_INFINITY;
  for (let j = 0; j <= last; j++) {
    const a = 1 - d - j / n;
    const b = d + j / n;
    if (a <= 0) break;
    const lt = logBinomial(n, j) + (n - j) * Math.log(a) + (j - 1) * Math.log(b);
    if (lt > peak) peak = lt;
    else if (lt < peak - 80) break;
    sum += Math.exp(lt);
  }
  return clip(d * sum);
}

function matmul(a: Float64Array, b: Float64Array, m: number): Float64Array<ArrayBuffer> {
  const out = new Float64Array(m * m);
  for (let i = 0; i < m; i++)
    for (let k = 0; k < m; k++) {
      const aik = a[i * m + k] as number;
      if (aik === 0) continue;
      for (let j = 0; j < m; j++)
        out[i * m + j] = (out[i * m + j] as number) + aik * (b[k * m + j] as number);
    }
  return out;
}

/** Pr(D_n <= d) by Durbin's matrix method. */
function durbinCdf(n: number, d: number): number {
  if (d >= 1) return 1;
  const nd = n * d;
  if (nd <= 0.5) return 0;
  const k = Math.ceil(nd);
  const h = k - nd;
  const m = 2 * k - 1;
  let H: Float64Array<ArrayBuffer> = new Float64Array(m * m);
  const v = new Float64Array(m);
  const w = new Float64Array(m);
  let fac = 1;
  for (let j = 1; j <= m; j++) {
    w[j - 1] = fac;
    fac /= j;
    v[j - 1] = (1 - h ** j) * fac;
  }
  const tt = Math.max(2 * h - 1, 0) ** m - 2 * h ** m;
  v[m - 1] = (1 + tt) * fac;
  for (let i = 1; i < m; i++) for (let r = i - 1; r < m; r++) H[r * m + i] = w[r - i + 1] as number;
  for (let r = 0; r < m; r++) H[r * m] = v[r] as number;
  for (let c = 0; c < m; c++) H[(m - 1) * m + c] = v[m - 1 - c] as number;

  let P: Float64Array<ArrayBuffer> = new Float64Array(m * m);
  for (let i = 0; i < m; i++) P[i * m + i] = 1;
  let nn = n;
  let expnt = 0;
  let hExp = 0;
  while (nn > 0) {
    if (nn % 2) {
      P = matmul(P, H, m);
      expnt += hExp;
    }
    H = matmul(H, H, m);
    hExp *= 2;
    if (Math.abs(H[(k - 1) * m + (k - 1)] as number) > E128) {
      for (let i = 0; i < H.length; i++) H[i] = (H[i] as number) / E128;
      hExp += 128;
    }
    nn = Math.floor(nn / 2);
  }
  let p = P[(k - 1) * m + (k - 1)] as number;
  for (let i = 1; i <= n; i++) {
    p = (i * p) / n;
    if (Math.abs(p) < EM128) {
      p *= E128;
      expnt -= 128;
    }
  }
  return clip(p * 2 ** expnt);
}

/** Pelz-Good approximation of Pr(D_n <= x). */
function pelzGoodCdf(n: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const z = Math.sqrt(n) * x;
  const z2 = z * z;
  const z3 = z2 * z;
  const z4 = z2 * z2;
  const z6 = z4 * z2;
  const PI2 = Math.PI ** 2;
  const PI4 = PI2 * PI2;
  const PI6 = PI4 * PI2;
  const qlog = -PI2 / 8 / z2;
  if (qlog < -708) return 0;
  let q = Math.exp(qlog);
  const k1a = -z2;
  const k1b = PI2 / 4;
  const k2a = 6 * z6 + 2 * z4;
  const k2b = ((2 * z4 - 5 * z2) * PI2) / 4;
  const k2c = (PI4 * (1 - 2 * z2)) / 16;
  const k3d = (PI6 * (5 - 30 * z2)) / 64;
  const k3c = (PI4 * (-60 * z2 + 212 * z4)) / 16;
  const k3b = (PI2 * (135 * z4 - 96 * z6)) / 4;
  const k3a = -30 * z6 - 90 * z ** 8;
  const K = [0, 0, 0, 0];
  const maxk = Math.ceil((16 * z) / Math.PI);
  for (let k = maxk; k > 0; k--) {
    const m = 2 * k - 1;
    const m2 = m * m;
    const qp = q ** (8 * k);
    const coeffs = [
      1,
      k1a + k1b * m2,
      k2a + k2b * m2 + k2c * m2 * m2,
      k3a + k3b * m2 + k3c * m2 * m2 + k3d * m2 ** 3,
    ];
    for (let i = 0; i < 4; i++) K[i] = (K[i] as number) * qp + (coeffs[i] as number);
  }
  const SQRT2PI = Math.sqrt(2 * Math.PI);
  const div = [z, 6 * z4, 72 * z ** 7, 6480 * z ** 10];
  for (let i = 0; i < 4; i++) K[i] = ((K[i] as number) * q * SQRT2PI) / (div[i] as number);
  q = Math.exp(-PI2 / 2 / z2);
  let k2extra = 0;
  let k3extra = 0;
  const sqrt3z = Math.sqrt(3) * z;
  for (let k = maxk; k > 0; k--) {
    const qp = q ** (k * k);
    k2extra += k * k * qp;
    k3extra += (sqrt3z + Math.PI * k) * (sqrt3z - Math.PI * k) * k * k * qp;
  }
  K[2] = (K[2] as number) + (k2extra * PI2 * SQRT2PI) / (-36 * z3);
  K[3] = (K[3] as number) + (k3extra * PI2 * SQRT2PI) / (216 * z6);
  let sum = 0;
  for (let i = 0; i < 4; i++) sum += (K[i] as number) / n ** (i / 2);
  return sum;
}

/** `scipy.stats.kstwo.sf(d, n)`: P(D_n > d) for the two-sided statistic of a sample of n. */
export function kolmogorovSf(n: number, d: number): number {
  if (d >= 1) return 0;
  if (d <= 0) return 1;
  const t = n * d;
  if (t <= 1) {
    if (t <= 0.5) return 1;
    const lnCdf = logGamma(n + 1) - n * Math.log(n) + n * Math.log(2 * t - 1);
    return clip(1 - Math.exp(lnCdf));
  }
  if (t >= n - 1) return clip(2 * (1 - d) ** n);
  if (d >= 0.5) return clip(2 * smirnovSf(n, d));
  const nx2 = t * d;
  if (n <= 140) {
    if (nx2 <= 4) return clip(1 - durbinCdf(n, d));
    return clip(2 * smirnovSf(n, d));
  }
  if (nx2 >= 370) return 0;
  if (nx2 >= 2.2) return clip(2 * smirnovSf(n, d));
  const cdf = n <= 100_000 && n * d ** 1.5 <= 1.4 ? durbinCdf(n, d) : pelzGoodCdf(n, d);
  return clip(1 - cdf);
}
