/**
 * The multivariate part of a reference profile: the PCA of the standardised features (categoricals
 * frequency-encoded), each embedding feature's centroid and principal directions, and the learned
 * band of every derived score. Fitted once from the reference rows (in time order) and stored as
 * JSON with the profile; ingest scores each row with it (scoreRow) and rolls the scores up as
 * numeric columns named by derivedColumns().
 */
import { chunkBand, RECONSTRUCTION_COLUMN } from "./monitors/multivariate-rules.js";
import type { Band } from "./stats/bands.js";
import { type EmbeddingFit, embeddingColumns, embeddingScores, fitEmbedding } from "./stats/embedding.js";
import { type ColumnEncoding, encodeRow, frequencyTable } from "./stats/multivariate-encoding.js";
import { fitPca, type PcaFit, reconstructionError } from "./stats/pca.js";

/** A reference or ingested row as the fit and the scorer read it (storage layout, plus vectors). */
export interface VectorRow {
  n: readonly (number | null)[];
  k: readonly (string | null)[];
  /** Embedding feature → its vector (absent or null: missing). */
  e?: Readonly<Record<string, ArrayLike<number> | null>>;
}

/** A tabular feature the PCA reads, with its slot (1-based) in `n` or `k`. */
export interface TabularFeature {
  name: string;
  type: "numeric" | "categorical";
  slot: number;
}

/** The fitted multivariate reference. */
export interface MultivariateProfile {
  /** Variance share the PCA keeps (config `monitors.multivariate.variance`). */
  variance: number;
  /** The PCA's columns in order: the feature, where it is read from, how it is encoded. */
  columns: (ColumnEncoding & { slot: number })[];
  /** Null when fewer than two tabular features (nothing multivariate to see). */
  pca: PcaFit | null;
  embeddings: { name: string; fit: EmbeddingFit }[];
  /** Derived column → the band of its per-chunk means over the reference. */
  bands: Record<string, Band | null>;
  /** Embedding features the reference could not fit, and why (too few sampled vectors). */
  embeddingNotes?: Record<string, string>;
}

/**
 * An embedding's part of the reference from its vectors in time order: the centroid and first
 * `components` principal directions, and the band of each derived score over `chunks` chunks.
 */
export function fitEmbeddingReference(
  name: string,
  vectors: readonly ArrayLike<number>[],
  components = 2,
  chunks = 10,
): { fit: EmbeddingFit; bands: Record<string, Band | null> } {
  const fit = fitEmbedding(
    vectors.map((v) => Array.from(v)),
    components,
  );
  const scores = vectors.map((v) => embeddingScores(fit, v));
  const bands = Object.fromEntries(
    embeddingColumns(name, fit.components.length).map((column, i) => [
      column,
      chunkBand(
        scores.map((s) => s[i] as number),
        chunks,
      ),
    ]),
  );
  return { fit, bands };
}

/** The derived numeric columns a profile gives each row, in scoreRow()'s order. */
export function derivedColumns(p: MultivariateProfile): string[] {
  return [
    ...(p.pca ? [RECONSTRUCTION_COLUMN] : []),
    ...p.embeddings.flatMap((e) => embeddingColumns(e.name, e.fit.components.length)),
  ];
}

/** The reconstruction error of one row's tabular features (null when the profile has no PCA). */
export function scoreTabular(p: MultivariateProfile, row: Pick<VectorRow, "n" | "k">): number | null {
  if (!p.pca) return null;
  const values = p.columns.map((c) => (c.kind === "numeric" ? row.n[c.slot - 1] : row.k[c.slot - 1]) ?? null);
  return reconstructionError(p.pca, encodeRow(p.columns, values));
}

/**
 * The embedding scores of one row, in derivedColumns() order after the reconstruction error: per
 * embedding its centroid distance and projections (nulls for a missing or wrong-length vector).
 */
export function scoreVectors(p: MultivariateProfile, e: VectorRow["e"]): (number | null)[] {
  const out: (number | null)[] = [];
  for (const { name, fit } of p.embeddings) {
    const v = e?.[name];
    if (v && v.length === fit.dimensions) out.push(...embeddingScores(fit, v));
    else for (let i = 0; i <= fit.components.length; i++) out.push(null);
  }
  return out;
}

/** The derived scores of one row, aligned with derivedColumns(). */
export function scoreRow(p: MultivariateProfile, row: VectorRow): (number | null)[] {
  return [...(p.pca ? [scoreTabular(p, row)] : []), ...scoreVectors(p, row.e)];
}

/** Fits the multivariate reference from rows in time order. */
export function fitMultivariate(
  rows: readonly VectorRow[],
  tabular: readonly TabularFeature[],
  embeddings: readonly string[],
  options: { variance?: number; components?: number; chunks?: number } = {},
): MultivariateProfile {
  const variance = options.variance ?? 0.65;
  const columns = tabular.map((f): ColumnEncoding & { slot: number } => {
    if (f.type === "numeric") {
      const xs = rows.map((r) => r.n[f.slot - 1]).filter((x): x is number => x !== null && x !== undefined);
      return {
        name: f.name,
        kind: "numeric",
        slot: f.slot,
        fill: xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : 0,
      };
    }
    const frequencies = frequencyTable(rows.map((r) => r.k[f.slot - 1] ?? null));
    const fill = Object.values(frequencies).reduce((s, q) => s + q * q, 0); // the mean encoded value
    return { name: f.name, kind: "categorical", slot: f.slot, fill, frequencies };
  });
  const encoded = rows.map((r) =>
    encodeRow(
      columns,
      columns.map((c) => (c.kind === "numeric" ? r.n[c.slot - 1] : r.k[c.slot - 1]) ?? null),
    ),
  );
  const pca =
    columns.length >= 2 && rows.length >= 2
      ? fitPca(
          columns.map((c) => c.name),
          encoded,
          variance,
        )
      : null;
  const fits = embeddings.flatMap((name) => {
    const vectors = rows
      .map((r) => r.e?.[name])
      .filter((v): v is ArrayLike<number> => !!v)
      .map((v) => Array.from(v));
    return vectors.length >= 2 ? [{ name, fit: fitEmbedding(vectors, options.components ?? 2) }] : [];
  });
  const profile: MultivariateProfile = { variance, columns, pca, embeddings: fits, bands: {} };
  const names = derivedColumns(profile);
  const scores = rows.map((r) => scoreRow(profile, r));
  names.forEach((name, i) => {
    const present = scores.map((s) => s[i]).filter((x): x is number => x !== null && x !== undefined);
    profile.bands[name] = chunkBand(present, options.chunks ?? 10);
  });
  return profile;
}
