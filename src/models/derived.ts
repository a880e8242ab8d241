/**
 * Derived score slots: columns the bot writes into a prediction's `num` array at ingest (scores of
 * the multivariate reference), registered like features so the raw rows and the rollups read one
 * value. They are not inputs: activeFeatures() leaves them out.
 */

/** The slot name of the PCA reconstruction error. */
export const RECONSTRUCTION_COLUMN = "(reconstruction_error)";

/** The slot name of a tabular feature's squared standardised residual (which features the error grew in). */
export const residualColumn = (feature: string): string => `(sq_residual:${feature})`;

/** Whether a column is a residualColumn(). */
export const isResidualColumn = (column: string): boolean =>
  column.startsWith("(sq_residual:") && column.endsWith(")");

/**
 * The derived columns of an embedding feature, as rollups and findings name them: its distance to
 * the reference centroid, then its projection on each of the first `components` principal directions.
 */
export function embeddingColumns(feature: string, components: number): string[] {
  return [`${feature}(distance)`, ...Array.from({ length: components }, (_, i) => `${feature}(pc${i + 1})`)];
}

/** An embedding derived column's feature and what it measures, or null for any other column. */
export function parseEmbeddingColumn(
  column: string,
): { feature: string; score: "distance" | { component: number } } | null {
  const m = /^(.+)\((distance|pc(\d+))\)$/.exec(column);
  if (!m) return null;
  const feature = m[1] as string;
  return m[3] ? { feature, score: { component: Number(m[3]) } } : { feature, score: "distance" };
}

/** The embedding features of a model's config, with their vector length. */
export function embeddingFeatures(m: {
  features: readonly { name: string; type: string; dimensions?: number | undefined }[];
}): { name: string; dimensions: number }[] {
  return m.features.flatMap((f) =>
    f.type === "embedding" && f.dimensions ? [{ name: f.name, dimensions: f.dimensions }] : [],
  );
}

/** The derived slots a model's config asks for: none without a multivariate monitor. */
export function derivedFeatures(m: {
  features: readonly { name: string; type: string; dimensions?: number | undefined }[];
  monitors: { multivariate?: { embedding_components?: number } | undefined };
}): { name: string; type: "numeric"; derived: true }[] {
  if (!m.monitors.multivariate) return [];
  const components = m.monitors.multivariate.embedding_components ?? 2;
  const tabular = m.features.filter((f) => f.type !== "embedding");
  return [
    RECONSTRUCTION_COLUMN,
    ...tabular.map((f) => residualColumn(f.name)),
    ...embeddingFeatures(m).flatMap((e) => embeddingColumns(e.name, components)),
  ].map((name) => ({
    name,
    type: "numeric" as const,
    derived: true as const,
  }));
}
