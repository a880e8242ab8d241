/**
 * Data quality: missing share against the reference, unseen categories, values outside the
 * reference range, features added, retyped or gone, and volume against the expected rate.
 */
import type { ModelConfig } from "../../config/index.js";
import { activeFeatures } from "../../models/index.js";
import { type Finding, type MonitorOutcome, round, statusOf } from "../model.js";
import { type MonitorContext, skipped, windowEndingNow } from "./context.js";

type QualityConfig = NonNullable<ModelConfig["monitors"]["data_quality"]>;

/** Absolute slack on the missing share, so one missing value in a clean feature is not an alert. */
export const MISSING_SLACK = 0.01;

function nextUp(x: number): number {
  return x === 0 ? Number.MIN_VALUE : x + Math.abs(x) * Number.EPSILON;
}

/** Runs the data-quality monitor. */
export async function runDataQuality(ctx: MonitorContext, cfg: QualityConfig): Promise<MonitorOutcome> {
  const window = windowEndingNow(ctx, cfg.window);
  const src = { kind: "window" as const, modelId: ctx.model.id, ...window };
  // A model that never sent a prediction has not started yet: there is no volume to miss.
  if (!(await ctx.windows.hasAny(ctx.model.id))) return skipped(window, "no predictions ingested yet");
  const profile = ctx.profile?.profile;
  const features = activeFeatures(ctx.model);
  const refByName = new Map((profile?.features ?? []).map((f) => [f.name, f]));
  const numeric = features.flatMap((f, key) => {
    const ref = refByName.get(f.name)?.column;
    if (f.type !== "numeric" || ref?.kind !== "numeric" || ref.min === null || ref.max === null) return [];
    return [
      {
        key,
        name: f.name,
        ref: { kind: "num" as const, slot: f.slot, name: f.name },
        edges: [ref.min, nextUp(ref.max)],
      },
    ];
  });
  const [summary, hists, cats, extra] = await Promise.all([
    ctx.windows.summary(src, ctx.model.confidenceThreshold),
    ctx.windows.histograms(src, numeric),
    ctx.windows.categories(
      src,
      features.flatMap((f, key) =>
        f.type === "categorical" ? [{ key, ref: { kind: "cat" as const, slot: f.slot, name: f.name } }] : [],
      ),
      1000,
    ),
    ctx.windows.extraKeys(src),
  ]);
  const findings: Finding[] = [];
  const metrics: Record<string, unknown> = { rows: summary.rows };
  const hours = (window.to.getTime() - window.from.getTime()) / 3_600_000;
  const refRate =
    profile?.from && profile.to && profile.rows > 1
      ? profile.rows / Math.max((Date.parse(profile.to) - Date.parse(profile.from)) / 3_600_000, 1 / 60)
      : null;
  const rate = cfg.expected_rows_per_hour ?? refRate;
  if (rate) {
    const expected = rate * hours;
    metrics.expected_rows = round(expected);
    const low = expected * (1 - cfg.volume_tolerance);
    if (summary.rows < low)
      findings.push({
        subject: "volume",
        severityRule: "quality_volume",
        title: `Volume drop: ${summary.rows} predictions, expected about ${Math.round(expected)}`,
        metrics: { rows: summary.rows, expected: round(expected), tolerance: cfg.volume_tolerance },
        rule: `rows < expected × (1 − ${cfg.volume_tolerance}) (${cfg.expected_rows_per_hour ? "configured rate" : "reference rate"})`,
      });
  }
  for (const e of extra) {
    const known = features.find((f) => f.name === e.key);
    findings.push({
      subject: `schema:${e.key}`,
      severityRule: "quality_schema",
      title: known
        ? `Feature ${e.key} changed type: ${e.count} values are ${e.type}, expected ${known.type}`
        : `New feature ${e.key} in ${e.count} predictions`,
      metrics: { feature: e.key, json_type: e.type, rows: e.count },
      rule: known ? "values must have the configured type" : "column set must match the config",
    });
  }
  if (summary.rows === 0 || !profile) {
    if (!profile) metrics.note = "no reference profile: only volume and schema checked";
    return {
      status: statusOf(findings),
      window,
      rows: summary.rows,
      metrics,
      rule: "volume and schema",
      findings,
    };
  }
  const perFeature: Record<string, unknown> = {};
  features.forEach((f, key) => {
    const ref = refByName.get(f.name)?.column;
    if (!ref) return;
    const refMissing = ref.n > 0 ? ref.missing / ref.n : 0;
    const h = hists.get(key);
    const c = cats.get(key);
    const missing = h ? h.missing : (c?.missing ?? 0);
    const share = missing / summary.rows;
    const limit = Math.max(refMissing * cfg.missing_share_factor, refMissing + MISSING_SLACK);
    const entry: Record<string, unknown> = {
      missing_share: round(share),
      reference_missing_share: round(refMissing),
    };
    if (share >= 1 && refMissing < 0.5)
      findings.push({
        subject: `schema:${f.name}`,
        severityRule: "quality_schema",
        title: `Feature ${f.name} is gone: missing in every prediction`,
        metrics: { missing_share: 1 },
        rule: "every configured feature must be present",
      });
    else if (share > limit)
      findings.push({
        subject: `missing:${f.name}`,
        severityRule: "quality_missing",
        title: `${f.name} missing in ${Math.round(share * 1000) / 10}% of predictions (reference ${Math.round(refMissing * 1000) / 10}%)`,
        metrics: { missing_share: round(share), reference: round(refMissing), limit: round(limit) },
        rule: `missing share > max(reference × ${cfg.missing_share_factor}, reference + ${MISSING_SLACK}) (fixed factor)`,
      });
    if (h && ref.kind === "numeric") {
      const below = h.counts[0] ?? 0;
      const above = h.counts[2] ?? 0;
      entry.out_of_range = below + above;
      if (below + above > 0)
        findings.push({
          subject: `range:${f.name}`,
          severityRule: "quality_range",
          title: `${below + above} values of ${f.name} outside the reference range [${round(ref.min)}, ${round(ref.max)}]`,
          metrics: { below, above, min: round(ref.min), max: round(ref.max) },
          rule: "any value outside the reference min/max",
        });
    }
    if (c && ref.kind === "categorical" && ref.distinct <= 500) {
      const unseen = [...c.counts.entries()].filter(([v]) => !(v in ref.counts));
      entry.unseen = unseen.length;
      if (unseen.length)
        findings.push({
          subject: `unseen:${f.name}`,
          severityRule: "quality_unseen",
          title: `${unseen.length} unseen ${f.name} categories: ${unseen
            .slice(0, 5)
            .map(([v]) => v.slice(0, 30))
            .join(", ")}`,
          metrics: { unseen: unseen.length, rows: unseen.reduce((s, [, n]) => s + n, 0) },
          rule: "any category the reference never saw",
        });
    }
    perFeature[f.name] = entry;
  });
  metrics.features = perFeature;
  return {
    status: statusOf(findings),
    window,
    rows: summary.rows,
    metrics,
    rule: "missing share, unseen categories, range, schema, volume",
    findings,
  };
}
