/**
 * Performance: realised metrics once enough labels arrived in the window, else CBPE-estimated
 * accuracy / F1 for binary models, and for multiclass models accuracy / macro F1 from the class
 * probability cells (NannyML's one-vs-rest method), or accuracy alone from the predicted class's
 * confidence when the rows carry no probabilities; each against the learned band of the reference
 * chunks.
 * Regression models are judged by regression-performance.ts.
 */
import type { ModelConfig } from "../../config/index.js";
import { type Finding, type MonitorOutcome, round, statusOf } from "../model.js";
import type { BandMetric } from "../profile.js";
import {
  calibratedSum,
  cbpeEstimate,
  estimatedAccuracy,
  estimateFromClassCells,
  metricsFromConfusion,
  rocAucFromGroups,
} from "../stats/index.js";
import { type MonitorContext, skipped, windowEndingNow } from "./context.js";
import { runRegressionPerformance } from "./regression-performance.js";

type PerformanceConfig = NonNullable<ModelConfig["monitors"]["performance"]>;

/** Runs the performance monitor. */
export async function runPerformance(ctx: MonitorContext, cfg: PerformanceConfig): Promise<MonitorOutcome> {
  const window = windowEndingNow(ctx, cfg.window);
  if (ctx.model.task === "regression") return runRegressionPerformance(ctx, cfg, window);
  const profile = ctx.profile?.profile;
  if (!profile) return skipped(window, "no reference profile yet");
  const src = { kind: "window" as const, modelId: ctx.model.id, ...window };
  const summary = await ctx.windows.summary(src, ctx.model.confidenceThreshold);
  const positive = profile.positiveClass;
  let value: number | null = null;
  let bandName: BandMetric;
  let metrics: Record<string, unknown>;
  let how: string;
  const multiclass = ctx.model.task === "multiclass_classification";
  // For a multiclass model, realised and estimated F1 are macro F1 (metricsFromConfusion averages).
  const label = multiclass && cfg.metric === "f1" ? "macro F1" : cfg.metric;
  const cells =
    multiclass &&
    summary.labelled < cfg.min_labels &&
    profile.classCalibration &&
    (cfg.metric === "accuracy" || cfg.metric === "f1")
      ? await ctx.windows.classCells(src, 1)
      : [];
  const classCalibration = profile.classCalibration;
  if (summary.labelled >= cfg.min_labels) {
    const m = metricsFromConfusion(await ctx.windows.confusion(src, 1), positive);
    const auc = positive ? rocAucFromGroups(await ctx.windows.scoreGroups(src, positive, 1)) : null;
    const all = { ...m, roc_auc: auc };
    // The config refuses regression metrics for classification models.
    value = all[cfg.metric as keyof typeof all];
    bandName = cfg.metric;
    how = "realised";
    metrics = Object.fromEntries(Object.entries(all).map(([k, v]) => [k, round(v)]));
  } else if (positive && summary.rows > 0 && (cfg.metric === "accuracy" || cfg.metric === "f1")) {
    const s = { posP: 0, posN: 0, negP: 0, negN: 0 };
    for (const b of await ctx.windows.cbpeBuckets(src, positive, profile.calibration?.x ?? [], 1)) {
      const sp = calibratedSum(profile.calibration, b.bucket, b.n, b.sp);
      if (b.pos) {
        s.posP += sp;
        s.posN += b.n;
      } else {
        s.negP += sp;
        s.negN += b.n;
      }
    }
    const est = cbpeEstimate(s);
    value = cfg.metric === "f1" ? est.f1 : est.accuracy;
    bandName = cfg.metric === "f1" ? "cbpe_f1" : "cbpe_accuracy";
    how = "estimated (CBPE)";
    metrics = {
      estimated_accuracy: round(est.accuracy),
      estimated_f1: round(est.f1),
      calibrated: profile.calibration !== null,
    };
  } else if (classCalibration && cells.some((c) => c.predicted && c.n > 0)) {
    // Multiclass with class probabilities: per-class calibrated cells (NannyML's method).
    const est = estimateFromClassCells(cells, classCalibration);
    value = cfg.metric === "f1" ? est.macroF1 : est.accuracy;
    bandName = cfg.metric === "f1" ? "cbpe_macro_f1" : "cbpe_accuracy";
    how = "estimated (CBPE)";
    const bandOf = (b: BandMetric) => {
      const band = profile.bands[b];
      return band ? { lower: round(band.lower), mean: round(band.mean), upper: round(band.upper) } : null;
    };
    metrics = {
      estimated_accuracy: round(est.accuracy),
      estimated_macro_f1: round(est.macroF1),
      accuracy_band: bandOf("cbpe_accuracy"),
      macro_f1_band: bandOf("cbpe_macro_f1"),
      rows_with_probabilities: est.rows,
      calibrated_classes: classCalibration.calibrations.filter((c) => c !== null).length,
      classes: est.classes.length,
    };
  } else if (
    multiclass &&
    profile.accuracyCalibration !== undefined &&
    summary.withConfidence > 0 &&
    cfg.metric === "accuracy"
  ) {
    // Multiclass without class probabilities: accuracy = mean calibrated P(correct | confidence).
    const cal = profile.accuracyCalibration;
    value = estimatedAccuracy(await ctx.windows.confidenceBuckets(src, cal?.x ?? [], 1), cal);
    bandName = "cbpe_accuracy";
    how = "estimated (CBPE)";
    metrics = { estimated_accuracy: round(value), calibrated: cal !== null };
  } else {
    const why = multiclass
      ? cfg.metric === "accuracy"
        ? "CBPE needs a reference made with labels and confidences"
        : cfg.metric === "f1"
          ? "CBPE estimates a multiclass model's macro F1 from class probabilities: send `probabilities` with the predictions and set a baseline from labelled rows that carry them"
          : "CBPE estimates a multiclass model's accuracy or macro F1 only"
      : "CBPE needs a binary model";
    return skipped(window, `${summary.labelled} labels in the window (need ${cfg.min_labels}); ${why}`, {
      rows: summary.rows,
      labelledRows: summary.labelled,
    });
  }
  const band = profile.bands[bandName] ?? null;
  const refValue = bandName.startsWith("cbpe_")
    ? band?.mean
    : (profile.performance?.[cfg.metric] ?? band?.mean);
  const lower = band ? band.lower : refValue !== undefined && refValue !== null ? refValue - 0.05 : null;
  const rule = band
    ? `${how} ${label} < ${round(band.lower)} (learned: reference mean ${round(band.mean)} − 3σ over ${profile.chunks} chunks)`
    : `${how} ${label} < reference − 0.05 (fixed threshold)`;
  const findings: Finding[] =
    value !== null && lower !== null && value < lower
      ? [
          {
            subject: cfg.metric,
            severityRule: "performance_drop",
            title: `${how === "realised" ? "" : "Estimated "}${label} fell to ${round(value)} (reference ${round(refValue ?? null)})`,
            metrics: {
              value: round(value),
              lower: round(lower),
              ...(band ? { upper: round(band.upper) } : {}),
              reference: round(refValue ?? null),
              labelled: summary.labelled,
            },
            rule,
          },
        ]
      : [];
  return {
    status: statusOf(findings),
    window,
    rows: summary.rows,
    labelledRows: summary.labelled,
    metrics: {
      ...metrics,
      metric: cfg.metric,
      value: round(value),
      mode: how,
      lower: round(lower),
      band: bandName,
    },
    rule,
    findings,
  };
}
