/** The realised performance metrics per kind of model, shared by the config and the monitors. */

/** Realised metrics of classification models (higher is better). */
export const CLASSIFICATION_METRICS = ["accuracy", "precision", "recall", "f1", "roc_auc"] as const;
/** Realised metrics of regression models: errors (lower is better) and R² (higher is better). */
export const REGRESSION_METRICS = ["mae", "rmse", "mape", "r2"] as const;
/** A realised performance metric. */
export type PerformanceMetric = (typeof CLASSIFICATION_METRICS)[number] | (typeof REGRESSION_METRICS)[number];

/** Whether a rise of the metric is the bad direction (errors), rather than a drop. */
export const risesWhenWorse = (m: PerformanceMetric): boolean => m === "mae" || m === "rmse" || m === "mape";

/** The metrics a model of `task` is judged on. */
export function metricsOfTask(task: string): readonly PerformanceMetric[] {
  return task === "regression" ? REGRESSION_METRICS : CLASSIFICATION_METRICS;
}

/** The performance monitor's metric when the config names none: F1, or RMSE for regression. */
export const defaultMetric = (task: string): PerformanceMetric => (task === "regression" ? "rmse" : "f1");
