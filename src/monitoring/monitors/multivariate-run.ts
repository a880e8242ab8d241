/**
 * The scheduled multivariate monitor: reads the window's rolled-up derived scores (the PCA
 * reconstruction error and each column's squared residual, written at ingest into registered
 * `num` slots) and judges them with evaluateMultivariate against the reference's bands.
 */
import type { ModelConfig } from "../../config/index.js";
import { RECONSTRUCTION_COLUMN, residualColumn } from "../../models/index.js";
import { type MonitorOutcome, round, statusOf } from "../model.js";
import type { NumericColumn } from "../window-repository.js";
import { type MonitorContext, skipped, windowEndingNow } from "./context.js";
import { evaluateMultivariate, type ScoreColumn } from "./multivariate.js";
import { MIN_SCORED_ROWS } from "./multivariate-rules.js";

type MultivariateConfig = NonNullable<ModelConfig["monitors"]["multivariate"]>;

/** Runs the multivariate drift monitor over the window ending now. */
export async function runMultivariate(ctx: MonitorContext, cfg: MultivariateConfig): Promise<MonitorOutcome> {
  const window = windowEndingNow(ctx, cfg.window);
  const profile = ctx.profile?.profile.multivariate;
  if (!ctx.profile) return skipped(window, "no reference profile: set a baseline first");
  if (!profile?.pca)
    return skipped(
      window,
      "the reference has no multivariate fit (set a baseline after configuring the monitor, from raw rows still within retention)",
    );
  const names = [RECONSTRUCTION_COLUMN, ...profile.columns.map((c) => residualColumn(c.name))];
  const columns: NumericColumn[] = names.flatMap((name, key) => {
    const f = ctx.model.features.find((x) => x.derived && x.name === name);
    return f ? [{ key, ref: { kind: "num" as const, slot: f.slot, name } }] : [];
  });
  const src = { kind: "window" as const, modelId: ctx.model.id, ...window };
  const [summary, described] = await Promise.all([
    ctx.windows.summary(src, ctx.model.confidenceThreshold),
    ctx.windows.describe(src, columns, []),
  ]);
  const score = (key: number): ScoreColumn => {
    const d = described.get(key);
    return { n: d?.n ?? 0, sum: d && d.mean !== null ? d.mean * d.n : 0 };
  };
  const error = score(0);
  const residualMeanSq = profile.columns.map((_, j) => {
    const s = score(j + 1);
    return s.n > 0 ? s.sum / s.n : 0;
  });
  const result = evaluateMultivariate(profile, { [RECONSTRUCTION_COLUMN]: error }, residualMeanSq);
  const j = result.judgements[0];
  if (!j || j.value === null)
    return skipped(window, `fewer than ${MIN_SCORED_ROWS} scored rows (${error.n})`, { rows: summary.rows });
  return {
    status: statusOf(result.findings),
    window,
    rows: summary.rows,
    metrics: {
      scored_rows: error.n,
      reconstruction_error: round(j.value),
      ...(j.band ? { lower: round(j.band.lower), upper: round(j.band.upper) } : {}),
    },
    rule: "learned band: the window's mean PCA reconstruction error within the reference chunks' mean ± 3σ",
    findings: result.findings,
  };
}
