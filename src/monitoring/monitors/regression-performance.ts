/**
 * Performance of regression models: realised MAE, RMSE, MAPE and R² of the labelled rows in the
 * window, from mergeable moments, judged against the learned band of the reference chunks. Errors
 * alert above the band's upper edge, R² below its lower edge. There is no label-free estimate
 * (CBPE needs class scores), so the run is skipped until `min_labels` labels are in.
 */
import { type PerformanceMetric, risesWhenWorse } from "../../shared/performance-metrics.js";
import { type Finding, type MonitorOutcome, round, statusOf } from "../model.js";
import { type Band, type RegressionMetrics, regressionMetrics } from "../stats/index.js";
import { type MonitorContext, skipped } from "./context.js";

/** How far a metric may move from the reference without a band: ×1.2 for errors, −0.05 for R². */
const FIXED_ERROR_FACTOR = 1.2;
const FIXED_R2_DROP = 0.05;

/** The metrics in words, e.g. "MAE 1.2, RMSE 1.5, MAPE 4.1%, R² 0.87". */
export function regressionSummary(m: Partial<RegressionMetrics>): string {
  const n = (x: number | null | undefined) => (x === null || x === undefined ? "n/a" : String(round(x)));
  const pct = m.mape === null || m.mape === undefined ? "n/a" : `${round(m.mape * 100)}%`;
  return `MAE ${n(m.mae)}, RMSE ${n(m.rmse)}, MAPE ${pct}, R² ${n(m.r2)}`;
}

/**
 * The rule, pure: an error metric fires above the band's upper edge, R² below its lower edge;
 * without a band (fewer than two reference chunks with labels) a fixed margin off the reference.
 */
export function judgeRegression(
  metric: PerformanceMetric,
  value: number | null,
  band: Band | null,
  reference: number | null,
): { rises: boolean; limit: number | null; fired: boolean } {
  const rises = risesWhenWorse(metric);
  const limit = band
    ? rises
      ? band.upper
      : band.lower
    : reference === null
      ? null
      : rises
        ? reference * FIXED_ERROR_FACTOR
        : reference - FIXED_R2_DROP;
  const fired = value !== null && limit !== null && (rises ? value > limit : value < limit);
  return { rises, limit, fired };
}

/** Runs the performance monitor for a regression model over `window`. */
export async function runRegressionPerformance(
  ctx: MonitorContext,
  cfg: { metric: PerformanceMetric; min_labels: number },
  window: { from: Date; to: Date },
): Promise<MonitorOutcome> {
  const profile = ctx.profile?.profile;
  if (!profile) return skipped(window, "no reference profile yet");
  const src = { kind: "window" as const, modelId: ctx.model.id, ...window };
  const summary = await ctx.windows.summary(src, ctx.model.confidenceThreshold);
  const [moments] = await ctx.windows.regression(src, 1);
  const labelled = moments?.n ?? 0;
  if (!moments || labelled < cfg.min_labels)
    return skipped(
      window,
      `${labelled} numeric labels in the window (need ${cfg.min_labels}); regression has no label-free estimate`,
      { rows: summary.rows, labelledRows: labelled },
    );
  const all = regressionMetrics(moments);
  const metric = cfg.metric as keyof RegressionMetrics;
  const value = all[metric];
  const band = profile.bands[metric] ?? null;
  const reference = profile.performance?.[metric] ?? band?.mean ?? null;
  if (!band && reference === null)
    return skipped(
      window,
      `the reference has no ${metric} (fewer than 50 labelled rows, or made before regression metrics): set a new baseline`,
      { rows: summary.rows, labelledRows: labelled },
    );
  const { rises, limit, fired } = judgeRegression(cfg.metric, value, band, reference);
  const rule = band
    ? `realised ${metric} ${rises ? ">" : "<"} ${round(limit)} (learned: reference mean ${round(band.mean)} ${rises ? "+" : "−"} 3σ over ${profile.chunks} chunks)`
    : `realised ${metric} ${rises ? `> reference × ${FIXED_ERROR_FACTOR}` : `< reference − ${FIXED_R2_DROP}`} (fixed threshold)`;
  const findings: Finding[] = fired
    ? [
        {
          subject: metric,
          severityRule: "performance_drop",
          title: `${metric.toUpperCase()} ${rises ? "rose" : "fell"} to ${round(value)} (reference ${round(reference)}): ${regressionSummary(all)}`,
          metrics: {
            value: round(value),
            [rises ? "upper" : "lower"]: round(limit),
            reference: round(reference),
            labelled,
            mae: round(all.mae),
            rmse: round(all.rmse),
            mape: round(all.mape),
            r2: round(all.r2),
          },
          rule,
        },
      ]
    : [];
  return {
    status: statusOf(findings),
    window,
    rows: summary.rows,
    labelledRows: labelled,
    metrics: {
      mae: round(all.mae),
      rmse: round(all.rmse),
      mape: round(all.mape),
      r2: round(all.r2),
      metric,
      value: round(value),
      mode: "realised",
      [rises ? "upper" : "lower"]: round(limit),
      direction: rises ? "above" : "below",
    },
    rule,
    findings,
  };
}
