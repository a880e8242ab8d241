/**
 * The rules of multivariate and embedding drift, pure: a derived per-row score (the PCA
 * reconstruction error, an embedding's centroid distance or projection) is rolled up like a
 * numeric feature, and the window's mean is judged against the band the reference's chunks learned
 * (mean ± 3σ of the per-chunk means, as NannyML's data-reconstruction drift).
 */
import { RECONSTRUCTION_COLUMN } from "../../models/derived.js";
import type { Finding } from "../model.js";
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
  const what = j.column === RECONSTRUCTION_COLUMN ? "PCA reconstruction error" : j.column;
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
