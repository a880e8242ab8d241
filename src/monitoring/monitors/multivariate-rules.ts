/**
 * The rules of multivariate and embedding drift, pure: a derived per-row score (the PCA
 * reconstruction error, an embedding's centroid distance or projection) is rolled up like a
 * numeric feature, and the window's mean is judged against the band the reference's chunks learned
 * (mean ± 3σ of the per-chunk means, as NannyML's data-reconstruction drift).
 */
import { parseEmbeddingColumn, RECONSTRUCTION_COLUMN } from "../../models/derived.js";
import type { Finding } from "../model.js";
import { DOMAIN_AUC_THRESHOLD, domainClassifierAuc } from "../stats/domain-classifier.js";
import { type Band, learnedBand } from "../stats/index.js";

/** The name of the rolled-up PCA reconstruction error column (a derived slot, src/models/derived.ts). */
export { RECONSTRUCTION_COLUMN } from "../../models/derived.js";

/** Fewest rows with a score a window must hold before it is judged. */
export const MIN_SCORED_ROWS = 30;

/** The learned band of a score: the reference split into `chunks` runs in time order, mean ± 3σ of their means. */
export function chunkBand(scores: readonly number[], chunks = 10): Band | null {
  const size = Math.floor(scores.length / chunks);
  if (size < 1) return null;
  const means: number[] = [];
  for (let c = 0; c < chunks; c++) {
    let s = 0;
    for (let i = c * size; i < (c + 1) * size; i++) s += scores[i] as number;
    means.push(s / size);
  }
  return learnedBand(means);
}

/** One score judged over a window. */
export interface ScoreJudgement {
  column: string;
  /** The window's mean score (null: too few scored rows). */
  value: number | null;
  n: number;
  band: Band | null;
  drifted: boolean;
}

/** Judges a window's rolled-up score (its count and sum) against the reference band. */
export function judgeScore(
  column: string,
  band: Band | null,
  window: { n: number; sum: number },
  minRows = MIN_SCORED_ROWS,
): ScoreJudgement {
  if (window.n < minRows || !band) return { column, value: null, n: window.n, band, drifted: false };
  const value = window.sum / window.n;
  return { column, value, n: window.n, band, drifted: value < band.lower || value > band.upper };
}

/** A derived column in words: the PCA error, or an embedding's distance or projection. */
export function describeScore(column: string): string {
  if (column === RECONSTRUCTION_COLUMN) return "PCA reconstruction error";
  const e = parseEmbeddingColumn(column);
  if (!e) return column;
  return e.score === "distance"
    ? `Embedding ${e.feature}: distance to the reference centroid`
    : `Embedding ${e.feature}: projection on the reference's principal direction ${e.score.component}`;
}

/** Fewest sampled vectors on each side before the domain classifier is run. */
export const MIN_DOMAIN_VECTORS = 50;

/** The domain classifier's verdict on one embedding. */
export interface DomainJudgement {
  feature: string;
  /** Cross-validated ROC AUC (null: too few vectors on a side). */
  auc: number | null;
  referenceVectors: number;
  recentVectors: number;
  drifted: boolean;
}

/**
 * The second opinion on an embedding: can a classifier tell the window's sampled vectors from the
 * reference's? Drift when its cross-validated ROC AUC exceeds `threshold` (Evidently's 0.55).
 */
export function judgeDomain(
  feature: string,
  reference: readonly ArrayLike<number>[],
  recent: readonly ArrayLike<number>[],
  threshold = DOMAIN_AUC_THRESHOLD,
  seed = 1,
): DomainJudgement {
  const base = { feature, referenceVectors: reference.length, recentVectors: recent.length };
  if (reference.length < MIN_DOMAIN_VECTORS || recent.length < MIN_DOMAIN_VECTORS)
    return { ...base, auc: null, drifted: false };
  const auc = domainClassifierAuc(reference, recent, { seed });
  return { ...base, auc, drifted: auc !== null && auc > threshold };
}

/** The finding of an embedding the domain classifier tells apart. */
export function domainFinding(j: DomainJudgement, threshold = DOMAIN_AUC_THRESHOLD): Finding {
  const auc = j.auc as number;
  return {
    subject: `${j.feature}(domain_classifier)`,
    severityRule: "drift_multivariate",
    title: `Embedding ${j.feature}: a classifier tells recent vectors from the reference's (ROC AUC ${auc.toFixed(3)} > ${threshold})`,
    metrics: {
      auc,
      threshold,
      reference_vectors: j.referenceVectors,
      recent_vectors: j.recentVectors,
    },
    rule: `domain classifier: cross-validated ROC AUC of a logistic regression telling the window's sampled vectors from the reference's above ${threshold} (Evidently's default)`,
  };
}

const fmt = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(1) : x.toPrecision(3));

/**
 * The finding of a drifted score. `shares` (largest first) are the columns' shares of the growth of
 * the squared residual (pca.ts errorShares), so the text names the features the error grew in.
 */
export function scoreFinding(
  j: ScoreJudgement,
  shares: readonly { column: string; share: number }[] = [],
): Finding {
  const band = j.band as Band;
  const value = j.value as number;
  const top = shares.filter((s) => s.share >= 0.1).slice(0, 3);
  const where = top.length
    ? `; it grew in ${top.map((s) => `${s.column} (${Math.round(s.share * 100)}%)`).join(", ")}`
    : "";
  const what = describeScore(j.column);
  return {
    subject: j.column,
    severityRule: "drift_multivariate",
    title: `${what} ${value > band.upper ? "rose" : "fell"} to ${fmt(value)} (reference ${fmt(band.mean)})${where}`,
    metrics: {
      value,
      reference: band.mean,
      lower: band.lower,
      upper: band.upper,
      rows: j.n,
      ...Object.fromEntries(top.map((s) => [`share:${s.column}`, s.share])),
    },
    rule: `learned band: outside the reference chunks' mean ± 3σ [${fmt(band.lower)}, ${fmt(band.upper)}]`,
  };
}
