/**
 * Derived score slots: columns the bot writes into a prediction's `num` array at ingest (scores of
 * the multivariate reference), registered like features so the raw rows and the rollups read one
 * value. They are not inputs: activeFeatures() leaves them out.
 */

/** The slot name of the PCA reconstruction error. */
export const RECONSTRUCTION_COLUMN = "(reconstruction_error)";

/** The slot name of a tabular feature's squared standardised residual (which features the error grew in). */
export const residualColumn = (feature: string): string => `(sq_residual:${feature})`;

/** The derived slots a model's config asks for: none without a multivariate monitor. */
export function derivedFeatures(m: {
  features: readonly { name: string; type: "numeric" | "categorical" }[];
  monitors: { multivariate?: unknown };
}): { name: string; type: "numeric"; derived: true }[] {
  if (!m.monitors.multivariate) return [];
  return [RECONSTRUCTION_COLUMN, ...m.features.map((f) => residualColumn(f.name))].map((name) => ({
    name,
    type: "numeric" as const,
    derived: true as const,
  }));
}
