/** Confidence: the share of predictions under the model's confidence threshold in the window. */
import type { ModelConfig } from "../../config/index.js";
import { type Finding, type MonitorOutcome, round, statusOf } from "../model.js";
import { type MonitorContext, skipped, windowEndingNow } from "./context.js";

type ConfidenceConfig = NonNullable<ModelConfig["monitors"]["confidence"]>;

/** The subject of confidence findings (scheduled and real-time alike, so one resolves the other). */
export const LOW_CONFIDENCE = "low_confidence";

/** Runs the scheduled confidence monitor. */
export async function runConfidence(ctx: MonitorContext, cfg: ConfidenceConfig): Promise<MonitorOutcome> {
  const window = windowEndingNow(ctx, cfg.window);
  const s = await ctx.windows.summary(
    { kind: "window", modelId: ctx.model.id, ...window },
    ctx.model.confidenceThreshold,
  );
  if (s.withConfidence === 0)
    return skipped(window, "no predictions with a confidence in the window", { rows: s.rows });
  const share = s.lowConfidence / s.withConfidence;
  const band = ctx.profile?.profile.bands.low_confidence_share ?? null;
  const rule = `share under confidence ${ctx.model.confidenceThreshold} > ${cfg.max_low_share} (fixed threshold)`;
  const findings: Finding[] =
    share > cfg.max_low_share
      ? [
          {
            subject: LOW_CONFIDENCE,
            severityRule:
              share > Math.min(1, cfg.max_low_share * 2) ? "confidence_collapse" : "confidence_low",
            title: `${Math.round(share * 1000) / 10}% of predictions under confidence ${ctx.model.confidenceThreshold}`,
            metrics: {
              low_share: round(share),
              low: s.lowConfidence,
              rows: s.withConfidence,
              max_low_share: cfg.max_low_share,
            },
            rule,
          },
        ]
      : [];
  return {
    status: statusOf(findings),
    window,
    rows: s.rows,
    metrics: {
      low_share: round(share),
      low: s.lowConfidence,
      with_confidence: s.withConfidence,
      reference_low_share: round(ctx.profile?.profile.lowConfidenceShare ?? null),
      ...(band ? { band_upper: round(band.upper) } : {}),
    },
    rule,
    findings,
  };
}

/** The real-time finding when `count` low-confidence predictions arrived within `withinMs`. */
export function burstFinding(count: number, minCount: number, withinMs: number, threshold: number): Finding {
  return {
    subject: LOW_CONFIDENCE,
    severityRule: "confidence_burst",
    title: `Burst: ${count} predictions under confidence ${threshold} within ${Math.round(withinMs / 1000)}s`,
    metrics: { low: count, min_count: minCount, within_s: withinMs / 1000 },
    rule: `>= ${minCount} predictions under confidence ${threshold} within ${Math.round(withinMs / 1000)}s (real time, fixed threshold)`,
  };
}
