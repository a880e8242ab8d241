/**
 * Drift: each feature, the prediction and (regression models) the residual against the reference
 * profile, with the method chosen by column type and reference size (or configured), per-feature
 * overrides, optional Bonferroni correction and a dataset-level drift share. The window is reduced in SQL to histograms on the
 * reference's own bin edges and to category counts.
 */
import { type DriftEvidence, driftDistributionChart, driftRank } from "../../charts/monitor-charts.js";
import type { ChartSpec } from "../../charts/spec.js";
import { columnPlan } from "../baseline.js";
import { type Finding, type MonitorOutcome, round, statusOf } from "../model.js";
import { type ColumnProfile, isTest, RESIDUAL_COLUMN } from "../profile.js";
import type { ColumnRef, NumericColumn } from "../window-repository.js";
import { type MonitorContext, skipped, windowEndingNow } from "./context.js";
import { type CurrentColumn, type DriftConfig, evaluateDrift, ruleText } from "./drift-rules.js";
import { hasImportance, importanceWeights, rankDrifted, rankScore, weightOf } from "./importance.js";

export {
  type ColumnDrift,
  type CurrentColumn,
  chooseMethod,
  evaluateDrift,
  measure,
  ruleText,
} from "./drift-rules.js";

/** The category that stands for every value the reference never saw. */
export const UNSEEN = "(unseen)";

/** Fewest rows a drift run compares. */
export const MIN_DRIFT_ROWS = 30;

/** How many drifted features the dataset-drift finding shows distributions of. */
export const TOP_DRIFTED_CHARTS = 3;

/** A drifted column's distributions as its chart needs them. */
function evidenceOf(
  column: { column: string; method: string; value: number; threshold: number },
  ref: ColumnProfile,
  cur: CurrentColumn,
): DriftEvidence {
  const common = {
    feature: column.column,
    method: column.method,
    value: column.value,
    threshold: column.threshold,
    isTest: isTest(column.method as Parameters<typeof isTest>[0]),
  };
  if (ref.kind === "numeric" && cur.kind === "numeric")
    return {
      ...common,
      distribution: {
        kind: "numeric",
        edges: ref.edges,
        reference: ref.counts,
        current: cur.hist.counts,
        min: ref.min,
        max: ref.max,
      },
    };
  const current: Record<string, number> = {};
  if (cur.kind === "categorical") for (const [k, v] of cur.counts) current[k] = v;
  return {
    ...common,
    distribution: {
      kind: "categorical",
      reference: ref.kind === "categorical" ? ref.counts : {},
      current,
    },
  };
}

/** Runs the drift monitor over its window. */
export async function runDrift(ctx: MonitorContext, cfg: DriftConfig): Promise<MonitorOutcome> {
  const window = windowEndingNow(ctx, cfg.window);
  const profile = ctx.profile?.profile;
  if (!profile) return skipped(window, "no reference profile yet");
  const src = { kind: "window" as const, modelId: ctx.model.id, ...window };
  const plan = columnPlan(ctx.model);
  const byName = new Map(plan.features.map((f) => [f.name, f]));
  // One pass for every column: numeric ones bucketed on the reference's edges, categorical ones on
  // the reference's categories (every other value lands in one "unseen" bucket).
  const columns: (NumericColumn & { name: string; categories?: string[] })[] = [];
  const cols = [
    ...profile.features.map((f) => ({ name: f.name, col: f.column, slot: f.slot, type: f.type })),
    { name: "prediction", col: profile.prediction, slot: 0, type: "prediction" as const },
    ...(profile.residual && plan.residual
      ? [{ name: RESIDUAL_COLUMN, col: profile.residual, slot: 0, type: "residual" as const }]
      : []),
  ];
  cols.forEach((c, key) => {
    const ref: ColumnRef =
      c.type === "prediction"
        ? plan.prediction.ref
        : c.type === "residual"
          ? { kind: "residual" }
          : { kind: c.type === "numeric" ? "num" : "cat", slot: c.slot, name: c.name };
    if ((c.type === "numeric" || c.type === "categorical") && !byName.has(c.name)) return;
    if (c.name === ctx.segment?.feature) return;
    if (c.col.kind === "numeric") columns.push({ key, ref, edges: c.col.edges, name: c.name });
    else columns.push({ key, ref, categories: Object.keys(c.col.counts).slice(0, 990), name: c.name });
  });
  const hists = await ctx.windows.histograms(src, columns);
  const current = new Map<string, CurrentColumn>();
  for (const c of columns) {
    const hist = hists.get(c.key);
    if (!hist) continue;
    // The residual exists for labelled rows only: judged once the window holds enough of them.
    if (c.name === RESIDUAL_COLUMN && hist.counts.reduce((a, b) => a + b, 0) < MIN_DRIFT_ROWS) continue;
    if (!c.categories) current.set(c.name, { kind: "numeric", hist });
    else {
      const counts = new Map<string, number>();
      c.categories.forEach((v, i) => {
        if (hist.counts[i]) counts.set(v, hist.counts[i] as number);
      });
      const unseen = hist.counts[c.categories.length] ?? 0;
      if (unseen) counts.set(UNSEEN, unseen);
      current.set(c.name, { kind: "categorical", counts, missing: hist.missing });
    }
  }
  // Every column sees every row (missing ones in its missing count), so any column gives the row
  // count without a separate scan.
  const anyColumn = [...current.values()].find((c) => c.kind === "numeric") ?? [...current.values()][0];
  const rows = !anyColumn
    ? 0
    : anyColumn.kind === "numeric"
      ? anyColumn.hist.counts.reduce((a, b) => a + b, 0) + anyColumn.hist.missing
      : [...anyColumn.counts.values()].reduce((a, b) => a + b, 0) + anyColumn.missing;
  if (rows < MIN_DRIFT_ROWS)
    return skipped(window, `fewer than ${MIN_DRIFT_ROWS} predictions in the window`, { rows });
  const weights = importanceWeights(ctx.config.features);
  const weighted = hasImportance(ctx.config.features);
  const verdict = evaluateDrift(profile, cfg, current, weights, ctx.segment?.family ?? 1);
  const refOf = new Map(cols.map((c) => [c.name, c.col]));
  const evidence: Record<string, ChartSpec[]> = {};
  const drifted = verdict.columns
    .filter((c) => c.drifted)
    .flatMap((c) => {
      const ref = refOf.get(c.column);
      const cur = current.get(c.column);
      return ref && cur ? [evidenceOf(c, ref, cur)] : [];
    })
    .sort(
      (a, b) => weightOf(weights, b.feature) * driftRank(b) - weightOf(weights, a.feature) * driftRank(a),
    );
  for (const e of drifted) evidence[e.feature] = [driftDistributionChart(e)];
  if (verdict.datasetDrift)
    evidence.dataset = drifted.slice(0, TOP_DRIFTED_CHARTS).map((e) => driftDistributionChart(e));
  const lone = !verdict.datasetDrift && verdict.columns.filter((c) => c.drifted).length === 1;
  // Most important drift first: importance × drift score (the score alone when no importance is set).
  const judged = verdict.columns.map((c) => ({ ...c, isTest: isTest(c.method) }));
  const findings: Finding[] = rankDrifted(judged, weights).map((c) => ({
    subject: c.column,
    // One feature drifting alone while the drifted share stays low is worth a look, not a page.
    severityRule: lone ? ("drift_feature_low_share" as const) : ("drift_feature" as const),
    title: `Drift in ${c.column}: ${isTest(c.method) ? `p = ${round(c.value)}` : `${c.method} ${round(c.value)}`}`,
    metrics: {
      method: c.method,
      value: round(c.value),
      statistic: round(c.statistic),
      threshold: round(c.threshold),
      ...(weighted
        ? { importance: round(weightOf(weights, c.column)), rank_score: round(rankScore(c, weights)) }
        : {}),
    },
    rule: ruleText(c, cfg, verdict.tests),
  }));
  const byImportance = cfg.dataset_drift_weighting === "importance";
  if (verdict.datasetDrift)
    findings.push({
      subject: "dataset",
      severityRule: "drift_dataset",
      title: `Dataset drift: ${Math.round(verdict.driftShare * 100)}% of ${byImportance ? "feature importance" : "features"} drifted`,
      metrics: {
        drift_share: round(verdict.driftShare),
        threshold: cfg.dataset_drift_share,
        ...(byImportance ? { weighting: "importance" } : {}),
      },
      rule: `${byImportance ? "importance-weighted share" : "share"} of drifted features >= ${cfg.dataset_drift_share} (fixed threshold)`,
    });
  return {
    status: statusOf(findings),
    window,
    rows,
    metrics: {
      drift_share: round(verdict.driftShare),
      columns: Object.fromEntries(
        verdict.columns.map((c) => [
          c.column,
          {
            method: c.method,
            value: round(c.value),
            statistic: round(c.statistic),
            threshold: round(c.threshold),
            drifted: c.drifted,
          },
        ]),
      ),
    },
    evidence,
    rule: `per column: p-value tests drift below their threshold, distances at or above it; dataset drift when >= ${cfg.dataset_drift_share} of features drift${cfg.bonferroni ? "; Bonferroni across tests" : ""}`,
    findings,
  };
}
