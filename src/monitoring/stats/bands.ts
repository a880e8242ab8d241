/** Learned thresholds: a metric's band from per-chunk values of the reference. */

/** mean ± k·σ of the chunk values (σ with ddof 0, as NannyML), or null with fewer than 2 chunks. */
export interface Band {
  mean: number;
  std: number;
  lower: number;
  upper: number;
}

/** The band of `values` at `k` standard deviations (3 by default). */
export function learnedBand(values: readonly (number | null)[], k = 3): Band | null {
  const xs = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (xs.length < 2) return null;
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  const std = Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length);
  return { mean, std, lower: mean - k * std, upper: mean + k * std };
}
