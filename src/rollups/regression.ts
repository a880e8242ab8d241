/**
 * A regression model's labelled rows in a rollup, as moments that merge by addition (see
 * RegressionAgg). Part of the rollup document (model.ts); the moments and their metrics are the
 * pure ones of src/monitoring/stats/regression.ts, so rollups and raw rows reduce alike.
 */
import { addMoments, emptyMoments, type RegressionMoments } from "../monitoring/stats/regression.js";
import { addNumeric, emptyNumeric, mergeNumeric, type NumericAgg } from "./numeric.js";

/**
 * The labelled rows of a regression model as mergeable moments, e = label − prediction, y = label:
 * enough for MAE, RMSE, MAPE and R² of any set of buckets, plus the residual's distribution.
 */
export interface RegressionAgg extends RegressionMoments {
  /** The residual e as a numeric column (its drift is checked like a feature's). */
  residual: NumericAgg;
}

/** An empty regression aggregate. */
export function emptyRegression(): RegressionAgg {
  return { ...emptyMoments(), residual: emptyNumeric() };
}

/** Adds (count = 1) or takes out (count = −1) one labelled regression row. */
export function addResidual(a: RegressionAgg, prediction: number, label: number, count = 1): void {
  const e = label - prediction;
  a.n += count;
  a.sumErr += e * count;
  a.sumAbsErr += Math.abs(e) * count;
  a.sumSqErr += e * e * count;
  if (label !== 0) {
    a.sumApe += (Math.abs(e) / Math.abs(label)) * count;
    a.nonZero += count;
  }
  a.sumY += label * count;
  a.sumSqY += label * label * count;
  addNumeric(a.residual, e, count);
}

/** Adds `b` into `a`. */
export function mergeRegression(a: RegressionAgg, b: RegressionAgg): void {
  addMoments(a, b);
  mergeNumeric(a.residual, b.residual);
}
