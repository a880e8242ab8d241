/** Distances between two binned distributions (shares over the same bins). */

/** The epsilon that replaces an empty bin's share in PSI (Evidently's 0.0001). */
export const PSI_EPSILON = 0.0001;

function shares(counts: readonly number[]): number[] {
  const total = counts.reduce((s, c) => s + c, 0);
  return counts.map((c) => (total > 0 ? c / total : 0));
}

/** Population stability index Σ (r − c)·ln(r / c) over bins; a share of 0 becomes PSI_EPSILON. */
export function psi(refCounts: readonly number[], curCounts: readonly number[]): number {
  const r = shares(refCounts);
  const c = shares(curCounts);
  let total = 0;
  for (let i = 0; i < r.length; i++) {
    const ri = (r[i] as number) || PSI_EPSILON;
    const ci = (c[i] as number) || PSI_EPSILON;
    total += (ri - ci) * Math.log(ri / ci);
  }
  return total;
}

function kl(p: readonly number[], m: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < p.length; i++) {
    const pi = p[i] as number;
    if (pi > 0) s += pi * Math.log(pi / (m[i] as number));
  }
  return s;
}

/** Jensen-Shannon distance √JS(P‖Q), natural log (`scipy.spatial.distance.jensenshannon`). */
export function jensenShannon(refCounts: readonly number[], curCounts: readonly number[]): number {
  const p = shares(refCounts);
  const q = shares(curCounts);
  const m = p.map((pi, i) => (pi + (q[i] as number)) / 2);
  const js = (kl(p, m) + kl(q, m)) / 2;
  return Math.sqrt(Math.max(0, js));
}

/** Hellinger distance √(1 − Σ √(p_i q_i)). */
export function hellinger(refCounts: readonly number[], curCounts: readonly number[]): number {
  const p = shares(refCounts);
  const q = shares(curCounts);
  let bc = 0;
  for (let i = 0; i < p.length; i++) bc += Math.sqrt((p[i] as number) * (q[i] as number));
  return Math.sqrt(Math.max(0, 1 - bc));
}

/**
 * First Wasserstein distance between two weighted samples on the line, ∫|U − V|
 * (`scipy.stats.wasserstein_distance(u, v, u_weights, v_weights)`). Weights default to 1.
 */
export function wasserstein(
  u: readonly number[],
  v: readonly number[],
  uWeights?: readonly number[],
  vWeights?: readonly number[],
): number {
  const pts: { x: number; du: number; dv: number }[] = [];
  const uw = uWeights ?? u.map(() => 1);
  const vw = vWeights ?? v.map(() => 1);
  const su = uw.reduce((s, w) => s + w, 0);
  const sv = vw.reduce((s, w) => s + w, 0);
  if (su <= 0 || sv <= 0) return Number.NaN;
  for (let i = 0; i < u.length; i++) pts.push({ x: u[i] as number, du: (uw[i] as number) / su, dv: 0 });
  for (let i = 0; i < v.length; i++) pts.push({ x: v[i] as number, du: 0, dv: (vw[i] as number) / sv });
  pts.sort((a, b) => a.x - b.x);
  let cu = 0;
  let cv = 0;
  let dist = 0;
  for (let i = 0; i < pts.length - 1; i++) {
    const p = pts[i] as (typeof pts)[number];
    cu += p.du;
    cv += p.dv;
    dist += Math.abs(cu - cv) * ((pts[i + 1] as (typeof pts)[number]).x - p.x);
  }
  return dist;
}

/** Wasserstein distance divided by the reference's standard deviation (at least 0.001), Evidently's normed form. */
export function normedWasserstein(distance: number, refStd: number): number {
  return distance / Math.max(refStd, 0.001);
}
