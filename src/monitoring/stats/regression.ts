/** Regression metrics from mergeable moments, so windows reduce to a few sums in SQL or rollups. */

/** Sums over labelled rows, e = label − prediction and y = label (a rollup's RegressionAgg adds the residual's distribution). */
export interface RegressionMoments {
  n: number;
  sumErr: number;
  sumAbsErr: number;
  sumSqErr: number;
  /** Σ|e|/|y| over the rows with y ≠ 0, and their count. */
  sumApe: number;
  nonZero: number;
  sumY: number;
  sumSqY: number;
}

/** Realised regression metrics (null where undefined: no rows, no y ≠ 0, or constant labels). */
export interface RegressionMetrics {
  mae: number | null;
  rmse: number | null;
  mape: number | null;
  r2: number | null;
}

/** Moments of nothing. */
export const emptyMoments = (): RegressionMoments => ({
  n: 0,
  sumErr: 0,
  sumAbsErr: 0,
  sumSqErr: 0,
  sumApe: 0,
  nonZero: 0,
  sumY: 0,
  sumSqY: 0,
});

/** Adds `b` into `a` and returns `a`. */
export function addMoments(a: RegressionMoments, b: RegressionMoments): RegressionMoments {
  a.n += b.n;
  a.sumErr += b.sumErr;
  a.sumAbsErr += b.sumAbsErr;
  a.sumSqErr += b.sumSqErr;
  a.sumApe += b.sumApe;
  a.nonZero += b.nonZero;
  a.sumY += b.sumY;
  a.sumSqY += b.sumSqY;
  return a;
}

/**
 * MAE = mean |e|, RMSE = √(mean e²), MAPE = mean |e|/|y| over y ≠ 0 (a fraction, not a percent),
 * R² = 1 − SS_res / SS_tot with SS_tot = Σy² − (Σy)²/n: the formulas of scikit-learn's
 * mean_absolute_error, root_mean_squared_error, mean_absolute_percentage_error (which divides by
 * max(|y|, ε) instead of leaving y = 0 out) and r2_score.
 */
export function regressionMetrics(m: RegressionMoments): RegressionMetrics {
  if (m.n <= 0) return { mae: null, rmse: null, mape: null, r2: null };
  const ssTot = m.sumSqY - (m.sumY * m.sumY) / m.n;
  // SS_tot below rounding noise of Σy² means constant labels: R² is undefined there.
  const r2 = m.n >= 2 && ssTot > 1e-12 * Math.max(1, m.sumSqY) ? 1 - m.sumSqErr / ssTot : null;
  return {
    mae: m.sumAbsErr / m.n,
    rmse: Math.sqrt(Math.max(0, m.sumSqErr / m.n)),
    mape: m.nonZero > 0 ? m.sumApe / m.nonZero : null,
    r2,
  };
}
