/**
 * Embedding drift: a feature that is a fixed-length vector is reduced at ingest to a few numbers
 * that roll up like numeric features — the distance to the reference centroid and the projection
 * on the reference's first principal components. Vectors are centred, not standardised: the
 * dimensions of an embedding share one space and scale.
 */
import { covariance, symmetricEigen } from "./pca.js";

/** The reference of one embedding feature, stored as JSON in the reference profile. */
export interface EmbeddingFit {
  dimensions: number;
  /** The reference vectors' mean. */
  centroid: number[];
  /** The first principal directions of the centred reference vectors (unit rows). */
  components: number[][];
  /** Share of the total variance each of them explains. */
  explained: number[];
}

/** Fits centroid and the first `k` principal directions of reference vectors. */
export function fitEmbedding(vectors: readonly (readonly number[])[], k = 2): EmbeddingFit {
  const d = vectors[0]?.length ?? 0;
  if (vectors.length < 2 || d < 1) throw new Error("an embedding reference needs at least 2 vectors");
  const centroid = new Array<number>(d).fill(0);
  for (const v of vectors)
    for (let j = 0; j < d; j++) centroid[j] = (centroid[j] as number) + (v[j] as number);
  for (let j = 0; j < d; j++) centroid[j] = (centroid[j] as number) / vectors.length;
  const centred = vectors.map((v) => v.map((x, j) => x - (centroid[j] as number)));
  const { values, vectors: dirs } = symmetricEigen(covariance(centred, d));
  const total = values.reduce((s, v) => s + v, 0) || 1;
  const m = Math.min(k, d);
  return {
    dimensions: d,
    centroid,
    components: dirs.slice(0, m),
    explained: values.slice(0, m).map((v) => v / total),
  };
}

/**
 * The derived scores of one vector: [distance to the centroid, projection on PC1, PC2, …]. One pass
 * over the dimensions (this runs per ingested row), reading any array-like (a Float32Array view of
 * a decoded vector too).
 */
export function embeddingScores(fit: EmbeddingFit, v: ArrayLike<number>): number[] {
  const d = fit.dimensions;
  const c = fit.centroid;
  const m = fit.components.length;
  const proj = new Array<number>(m).fill(0);
  let sq = 0;
  for (let j = 0; j < d; j++) {
    const x = (v[j] as number) - (c[j] as number);
    sq += x * x;
    for (let k = 0; k < m; k++)
      proj[k] = (proj[k] as number) + x * ((fit.components[k] as number[])[j] as number);
  }
  return [Math.sqrt(sq), ...proj];
}

/** The names of the derived columns of an embedding feature, as rollups and findings show them. */
export { embeddingColumns } from "../../models/derived.js";

/** A fit laid out for scoring many rows: centroid and components as flat typed arrays. */
export interface PackedEmbedding {
  dimensions: number;
  components: number;
  centroid: Float64Array;
  /** Row-major: component k's direction at [k * dimensions, (k + 1) * dimensions). */
  directions: Float64Array;
  /** The centred vector of the row being scored (one per packed fit: scoring is synchronous). */
  scratch: Float64Array;
}

/** Packs a fit for embeddingScoresInto. */
export function packEmbedding(fit: EmbeddingFit): PackedEmbedding {
  const d = fit.dimensions;
  const directions = new Float64Array(fit.components.length * d);
  fit.components.forEach((c, k) => {
    directions.set(c, k * d);
  });
  return {
    dimensions: d,
    components: fit.components.length,
    centroid: Float64Array.from(fit.centroid),
    directions,
    scratch: new Float64Array(d),
  };
}

/**
 * embeddingScores without allocating: the vector at `data[offset .. offset + dimensions)` scored
 * into `out` ([distance, pc1, …]). The ingest hot path scores every row with it.
 */
export function embeddingScoresInto(
  p: PackedEmbedding,
  data: ArrayLike<number>,
  offset: number,
  out: Float64Array,
): void {
  const d = p.dimensions;
  const c = p.centroid;
  const w = p.directions;
  const x = p.scratch;
  // Centred once, then one tight loop per score (faster than one loop nesting them all).
  let sq = 0;
  for (let j = 0; j < d; j++) {
    const v = (data[offset + j] as number) - (c[j] as number);
    x[j] = v;
    sq += v * v;
  }
  out[0] = Math.sqrt(sq);
  for (let k = 0, base = 0; k < p.components; k++, base += d) {
    let dot = 0;
    for (let j = 0; j < d; j++) dot += (x[j] as number) * (w[base + j] as number);
    out[k + 1] = dot;
  }
}
