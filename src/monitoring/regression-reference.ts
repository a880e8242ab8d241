/**
 * The regression part of a reference profile: realised MAE, RMSE, MAPE and R² over the whole
 * reference and per time chunk of its labelled rows (the chunk values make the learned bands).
 */
import { REGRESSION_METRICS } from "../shared/performance-metrics.js";
import type { BandMetric } from "./profile.js";
import { addMoments, emptyMoments, type RegressionMetrics, regressionMetrics } from "./stats/index.js";
import type { WindowRepository, WindowSource } from "./window-repository.js";

/** Labelled rows (numeric prediction and label), whole-reference metrics and per-chunk values. */
export async function regressionReference(
  windows: WindowRepository,
  src: WindowSource,
  chunks: number,
): Promise<{
  labelled: number;
  performance: RegressionMetrics;
  chunkValues: Partial<Record<BandMetric, (number | null)[]>>;
}> {
  const perChunk = await windows.regression(src, chunks);
  const whole = perChunk.reduce((a, c) => addMoments(a, c), emptyMoments());
  const metrics = perChunk.map((c) => regressionMetrics(c));
  const chunkValues: Partial<Record<BandMetric, (number | null)[]>> = {};
  for (const m of REGRESSION_METRICS) chunkValues[m] = metrics.map((x) => x[m]);
  return { labelled: whole.n, performance: regressionMetrics(whole), chunkValues };
}
