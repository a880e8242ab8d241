/**
 * Feature importance in drift: the weight of each feature (config `features[].importance`), the
 * importance-weighted drifted share, and the ranking score importance × drift score.
 */
import type { ColumnDrift } from "./drift-rules.js";

/** The drift score of a column: a distance over its threshold, a p-value test's threshold over p. */
export function driftScore(c: Pick<ColumnDrift, "value" | "threshold"> & { isTest: boolean }): number {
  if (c.isTest) return c.threshold / Math.max(c.value, 1e-300);
  return c.threshold > 0 ? c.value / c.threshold : c.value;
}

/**
 * Each feature's weight: its configured importance; a feature without one weighs the mean of
 * those given (1 when none is given), so a partial vector neither drowns nor silences the rest.
 * Outputs (prediction, residual) are not features and weigh 1 in the ranking.
 */
export function importanceWeights(
  features: readonly { name: string; importance?: number | undefined }[],
): Map<string, number> {
  const given = features.flatMap((f) => (f.importance === undefined ? [] : [f.importance]));
  const fill = given.length ? given.reduce((a, b) => a + b, 0) / given.length : 1;
  return new Map(features.map((f) => [f.name, f.importance ?? fill]));
}

/** True when any feature has a configured importance. */
export function hasImportance(features: readonly { importance?: number | undefined }[]): boolean {
  return features.some((f) => f.importance !== undefined);
}

/** The weight of a column in ranking (1 for columns without a weight: outputs). */
export function weightOf(weights: ReadonlyMap<string, number>, column: string): number {
  return weights.get(column) ?? 1;
}

/**
 * The share of drifted features: by count, or weighted by importance (Σ weight of drifted
 * features / Σ weight of judged features). Zero total weight falls back to the count share.
 */
export function driftedShare(
  features: readonly Pick<ColumnDrift, "column" | "drifted">[],
  weights: ReadonlyMap<string, number> | null,
): number {
  if (features.length === 0) return 0;
  const count = features.filter((c) => c.drifted).length / features.length;
  if (!weights) return count;
  let total = 0;
  let drifted = 0;
  for (const c of features) {
    const w = weightOf(weights, c.column);
    total += w;
    if (c.drifted) drifted += w;
  }
  return total > 0 ? drifted / total : count;
}

/** A drifted column's ranking score: its importance × its drift score. */
export function rankScore(
  c: Pick<ColumnDrift, "column" | "value" | "threshold"> & { isTest: boolean },
  weights: ReadonlyMap<string, number>,
): number {
  return weightOf(weights, c.column) * driftScore(c);
}

/** Drifted columns, most important drift first (importance × drift score, then name). */
export function rankDrifted<
  T extends Pick<ColumnDrift, "column" | "value" | "threshold" | "drifted"> & { isTest: boolean },
>(columns: readonly T[], weights: ReadonlyMap<string, number>): T[] {
  return columns
    .filter((c) => c.drifted)
    .sort((a, b) => rankScore(b, weights) - rankScore(a, weights) || a.column.localeCompare(b.column));
}
