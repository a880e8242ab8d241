/**
 * The reference profile: what "normal" looked like for a model, computed once (see baseline.ts)
 * and stored as JSON in `reference_profiles`. Every monitor run compares a window against it.
 */
import type { PerformanceMetric } from "../shared/performance-metrics.js";
import type { MultivariateProfile } from "./multivariate-profile.js";
import type { Band, Calibration, ClassCalibration } from "./stats/index.js";

/** A numeric column: reference-fitted bin edges (percentiles, or midpoints between the values of a discrete column), counts and means per bin. */
export interface NumericProfile {
  kind: "numeric";
  n: number;
  missing: number;
  edges: number[];
  counts: number[];
  means: (number | null)[];
  min: number | null;
  max: number | null;
  mean: number | null;
  std: number | null;
  distinct: number;
  /** True when every bin holds one value (few distinct values): bins act as categories. */
  discrete: boolean;
}

/** A categorical column: count per category (the most frequent 500), missing apart. */
export interface CategoricalProfile {
  kind: "categorical";
  n: number;
  missing: number;
  counts: Record<string, number>;
  distinct: number;
}

/** One column of the profile. */
export type ColumnProfile = NumericProfile | CategoricalProfile;

/** A feature's profile with its slot in the prediction row. */
export interface FeatureProfile {
  name: string;
  type: "numeric" | "categorical";
  slot: number;
  column: ColumnProfile;
}

/** Metrics whose per-chunk values make learned bands. */
export const BAND_METRICS = [
  "low_confidence_share",
  "mean_confidence",
  "accuracy",
  "precision",
  "recall",
  "f1",
  "roc_auc",
  "cbpe_accuracy",
  "cbpe_f1",
  "cbpe_macro_f1",
  "mae",
  "rmse",
  "mape",
  "r2",
] as const;
/** A metric with a learned band. */
export type BandMetric = (typeof BAND_METRICS)[number];

/** The name the drift monitor gives the residual column of a regression model. */
export const RESIDUAL_COLUMN = "(residual)";

/** The whole stored profile. */
export interface ReferenceProfile {
  formatVersion: 1;
  rows: number;
  labelledRows: number;
  from: string | null;
  to: string | null;
  features: FeatureProfile[];
  confidence: NumericProfile | null;
  prediction: ColumnProfile;
  lowConfidenceShare: number | null;
  /** The class scored as positive for binary models ("1"), else null. */
  positiveClass: string | null;
  /** Realised metrics over the whole reference: classification metrics, or regression ones. */
  performance: Partial<Record<PerformanceMetric, number | null>> | null;
  /**
   * Regression models with labels: the residual (label − prediction) as a numeric column, checked
   * for drift like a feature. Absent in profiles made before regression monitoring.
   */
  residual?: NumericProfile | null;
  /**
   * Multivariate and embedding drift: the PCA, embedding fits and score bands (see
   * multivariate-profile.ts). Absent in profiles made before it, or with no such monitor.
   */
  multivariate?: MultivariateProfile | null;
  /** Isotonic calibration of the positive-class score for CBPE, or null when raw scores calibrate better. */
  calibration: Calibration | null;
  /**
   * Multiclass models with labels: isotonic calibration of P(correct | the predicted class's
   * confidence) for CBPE's estimated accuracy, or null when raw confidence calibrates better.
   * Absent in profiles made before multiclass CBPE (and for other tasks).
   */
  accuracyCalibration?: Calibration | null;
  /**
   * Multiclass models whose labelled reference rows carry class `probabilities`: one-vs-rest
   * calibration of each class's p_k (null per class where the raw p_k calibrates better), fitted
   * from the reference's class cells. With it, `cbpe_accuracy` and `cbpe_macro_f1` are the bands
   * of the cell estimate (src/monitoring/stats/cbpe-multiclass-cells.ts). Absent in profiles made
   * before it; null when too few labelled rows carried probabilities.
   */
  classCalibration?: ClassCalibration | null;
  chunks: number;
  chunkValues: Partial<Record<BandMetric, (number | null)[]>>;
  bands: Partial<Record<BandMetric, Band | null>>;
}

/** Drift methods by name. */
export type DriftMethod = "ks" | "chi2" | "ztest" | "psi" | "jensen_shannon" | "wasserstein" | "hellinger";

/** Whether a method's statistic is a p-value (drift when below) or a distance (drift when at or above). */
export function isTest(method: DriftMethod): boolean {
  return method === "ks" || method === "chi2" || method === "ztest";
}

/** The usual threshold of each method (p-value for tests, distance otherwise). */
export const DEFAULT_THRESHOLDS: Record<DriftMethod, number> = {
  ks: 0.05,
  chi2: 0.05,
  ztest: 0.05,
  psi: 0.2,
  jensen_shannon: 0.1,
  wasserstein: 0.1,
  hellinger: 0.1,
};

/**
 * Evidently's default by column type and reference size n: numeric with more than 5 values → KS
 * when n <= 1000, else normed Wasserstein; categorical (or numeric with at most 5 values) → chi-square
 * (more than 2 values) or z-test (binary) when n <= 1000, else Jensen-Shannon.
 */
export function autoMethod(column: ColumnProfile): DriftMethod {
  const n = column.n - column.missing;
  if (column.kind === "numeric" && column.distinct > 5) return n <= 1000 ? "ks" : "wasserstein";
  if (n > 1000) return "jensen_shannon";
  return column.distinct > 2 ? "chi2" : "ztest";
}

/** Methods that need ordered numeric bins. */
export function needsNumeric(method: DriftMethod): boolean {
  return method === "ks" || method === "wasserstein";
}

/**
 * Groups consecutive fine bins into about `target` bins of similar reference share, for the
 * share-based distances (PSI, Jensen-Shannon, Hellinger) on continuous columns.
 */
export function coarseGroups(counts: readonly number[], target = 10): number[][] {
  const total = counts.reduce((s, c) => s + c, 0);
  const groups: number[][] = [];
  let cur: number[] = [];
  let acc = 0;
  counts.forEach((c, i) => {
    cur.push(i);
    acc += c;
    if (acc >= total / target && i < counts.length - 1) {
      groups.push(cur);
      cur = [];
      acc = 0;
    }
  });
  if (cur.length) groups.push(cur);
  return groups;
}

/** Sums counts over groups of bins. */
export function regroup(counts: readonly number[], groups: readonly number[][]): number[] {
  return groups.map((g) => g.reduce((s, i) => s + ((counts[i] as number) ?? 0), 0));
}
