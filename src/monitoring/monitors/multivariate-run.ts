/**
 * The scheduled multivariate monitor: reads the window's rolled-up derived scores (the PCA
 * reconstruction error and each column's squared residual, each embedding's centroid distance and
 * projections, all written at ingest into registered `num` slots) and judges them with
 * evaluateMultivariate against the reference's bands. For each embedding, a domain classifier
 * over the sampled vectors (the reference's pinned pool against the window's) gives a second opinion.
 */
import type { ModelConfig } from "../../config/index.js";
import { RECONSTRUCTION_COLUMN, residualColumn } from "../../models/index.js";
import { type MonitorOutcome, round, statusOf } from "../model.js";
import { derivedColumns } from "../multivariate-profile.js";
import type { NumericColumn } from "../window-repository.js";
import { type MonitorContext, skipped, windowEndingNow } from "./context.js";
import { evaluateMultivariate, type ScoreColumn } from "./multivariate.js";
import {
  type DomainJudgement,
  domainFinding,
  judgeDomain,
  MIN_SCORED_ROWS,
  type ScoreJudgement,
} from "./multivariate-rules.js";

type MultivariateConfig = NonNullable<ModelConfig["monitors"]["multivariate"]>;

/** Most sampled vectors per side the domain classifier trains on (evenly spaced when more). */
export const DOMAIN_MAX_VECTORS = 1000;

function evenly<T>(xs: readonly T[], limit: number): T[] {
  if (xs.length <= limit) return [...xs];
  const step = xs.length / limit;
  return Array.from({ length: limit }, (_, i) => xs[Math.floor(i * step)] as T);
}

/** Runs the multivariate drift monitor over the window ending now. */
export async function runMultivariate(ctx: MonitorContext, cfg: MultivariateConfig): Promise<MonitorOutcome> {
  const window = windowEndingNow(ctx, cfg.window);
  const profile = ctx.profile?.profile.multivariate;
  if (!ctx.profile) return skipped(window, "no reference profile: set a baseline first");
  const notes = Object.entries(profile?.embeddingNotes ?? {}).map(([f, why]) => `embedding ${f}: ${why}`);
  if (!profile || (!profile.pca && profile.embeddings.length === 0))
    return skipped(
      window,
      notes.length
        ? `the reference has no multivariate fit (${notes.join("; ")})`
        : "the reference has no multivariate fit (set a baseline after configuring the monitor, from raw rows still within retention)",
    );
  const derived = derivedColumns(profile);
  const residuals = profile.pca ? profile.columns.map((c) => residualColumn(c.name)) : [];
  const names = [...derived, ...residuals];
  const columns: NumericColumn[] = names.flatMap((name, key) => {
    const f = ctx.model.features.find((x) => x.derived && x.name === name);
    return f ? [{ key, ref: { kind: "num" as const, slot: f.slot, name } }] : [];
  });
  const src = { kind: "window" as const, modelId: ctx.model.id, ...window };
  const [summary, described, domain] = await Promise.all([
    ctx.windows.summary(src, ctx.model.confidenceThreshold),
    ctx.windows.describe(src, columns, []),
    domainJudgements(ctx, profile.embeddings, window),
  ]);
  const score = (key: number): ScoreColumn => {
    const d = described.get(key);
    return { n: d?.n ?? 0, sum: d && d.mean !== null ? d.mean * d.n : 0 };
  };
  const residualMeanSq = residuals.map((_, j) => {
    const s = score(derived.length + j);
    return s.n > 0 ? s.sum / s.n : 0;
  });
  const result = evaluateMultivariate(
    profile,
    Object.fromEntries(derived.map((name, key) => [name, score(key)])),
    residualMeanSq,
  );
  const judged = (column: string) => result.judgements.find((j) => j.column === column);
  const findings = [...result.findings, ...domain.filter((d) => d.drifted).map((d) => domainFinding(d))];
  const anyValue = result.judgements.some((j) => j.value !== null) || domain.some((d) => d.auc !== null);
  const scoredRows = Math.max(0, ...result.judgements.map((j) => j.n));
  if (!anyValue)
    return skipped(
      window,
      [`fewer than ${MIN_SCORED_ROWS} scored rows (${scoredRows})`, ...notes].join("; "),
      {
        rows: summary.rows,
      },
    );
  const error = profile.pca ? judged(RECONSTRUCTION_COLUMN) : undefined;
  const band = (j: ScoreJudgement | undefined) =>
    j?.band ? { lower: round(j.band.lower), upper: round(j.band.upper) } : {};
  const embeddings = profile.embeddings.map(({ name }) => {
    const distance = judged(`${name}(distance)`);
    const d = domain.find((x) => x.feature === name);
    return {
      feature: name,
      scored_rows: distance?.n ?? 0,
      distance: round(distance?.value),
      ...band(distance),
      domain_auc: round(d?.auc),
      reference_vectors: d?.referenceVectors ?? 0,
      recent_vectors: d?.recentVectors ?? 0,
    };
  });
  return {
    status: statusOf(findings),
    window,
    rows: summary.rows,
    metrics: {
      scored_rows: scoredRows,
      ...(error ? { reconstruction_error: round(error.value), ...band(error) } : {}),
      ...(embeddings.length ? { embeddings } : {}),
      ...(notes.length ? { note: notes.join("; ") } : {}),
    },
    rule: [
      "learned band: the window's mean of each derived score (PCA reconstruction error; each embedding's centroid distance and projections) within the reference chunks' mean ± 3σ",
      ...(profile.embeddings.length
        ? ["and per embedding a domain classifier over the sampled vectors: ROC AUC ≤ 0.55"]
        : []),
    ].join("; "),
    findings,
  };
}

/** The domain classifier of each fitted embedding: the reference's pinned vectors against the window's. */
async function domainJudgements(
  ctx: MonitorContext,
  embeddings: readonly { name: string; fit: { dimensions: number } }[],
  window: { from: Date; to: Date },
): Promise<DomainJudgement[]> {
  const samples = ctx.samples;
  const profileId = ctx.profile?.id;
  if (!samples || profileId === undefined) return [];
  const out: DomainJudgement[] = [];
  for (const { name, fit } of embeddings) {
    const [reference, recent] = await Promise.all([
      samples.pinned(ctx.model.id, name, profileId),
      samples.recent(ctx.model.id, name, window.from, window.to, DOMAIN_MAX_VECTORS),
    ]);
    // Only vectors of the fit's length: after a change of `dimensions` the ring holds others
    // until it turns over (and the reference is stale until the next baseline anyway).
    const fits = (v: { vector: Float32Array }) => v.vector.length === fit.dimensions;
    out.push(
      judgeDomain(
        name,
        evenly(reference.filter(fits), DOMAIN_MAX_VECTORS).map((v) => v.vector),
        recent.filter(fits).map((v) => v.vector),
      ),
    );
  }
  return out;
}
