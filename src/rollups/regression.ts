/**
 * A regression model's labelled rows in a rollup, as moments that merge by addition (see
 * RegressionAgg). Part of the rollup document (model.ts); depends on nothing but numeric.ts.
 */
import { addNumeric, emptyNumeric, mergeNumeric, type NumericAgg } from "./numeric.js";

/**
 * The labelled rows of a regression model as mergeable moments, e = label − prediction, y = label:
 * enough for MAE, RMSE, MAPE and R² of any set of buckets, plus the residual's distribution.
 */
export interface RegressionAgg {
  /** Labelled rows whose prediction and label are both numbers. */
  n: number;
  /** Σe, Σ|e|, Σe². */
  sumErr: number;
  sumAbsErr: number;
  sumSqErr: number;
  /** Σ|e|/|y| over the rows with y ≠ 0, and how many those are (MAPE leaves y = 0 out). */
  sumApe: number;
  nonZero: number;
  /** Σy and Σy² (the total sum of squares of R²). */
  sumY: number;
  sumSqY: number;
  /** The residual e as a numeric column (its drift is checked like a feature's). */
  residual: NumericAgg;
}

/** An empty regression aggregate. */
export function emptyRegression(): RegressionAgg {
  return {
    n: 0,
    sumErr: 0,
    sumAbsErr: 0,
    sumSqErr: 0,
    sumApe: 0,
    nonZero: 0,
    sumY: 0,
    sumSqY: 0,
    residual: emptyNumeric(),
  };
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
  a.n += b.n;
  a.sumErr += b.sumErr;
  a.sumAbsErr += b.sumAbsErr;
  a.sumSqErr += b.sumSqErr;
  a.sumApe += b.sumApe;
  a.nonZero += b.nonZero;
  a.sumY += b.sumY;
  a.sumSqY += b.sumSqY;
  mergeNumeric(a.residual, b.residual);
}
