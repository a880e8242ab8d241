/**
 * Scores ingested rows against the current reference's multivariate fit: the PCA reconstruction
 * error and each column's squared standardised residual, and for each embedding feature its
 * distance to the reference centroid and its projections on the reference's principal directions,
 * written into the row's derived `num` slots (src/models/derived.ts) so rollups and raw-row
 * reductions read the same values. The fit is kept in memory per model: dropped when this process
 * sets a baseline, and reloaded after `ttlMs` so other replicas pick up a new one. Rows of a model
 * with no multivariate fit get no scores; a row without a vector gets no scores of that embedding.
 */
import type { RowScorer } from "../ingest/ports.js";
import type { VectorColumn } from "../ingest/vector.js";
import {
  embeddingColumns,
  RECONSTRUCTION_COLUMN,
  type RegisteredModel,
  residualColumn,
} from "../models/index.js";
import type { MultivariateProfile } from "./multivariate-profile.js";
import type { MonitoringRepository } from "./repository.js";
import { embeddingScoresInto, type PackedEmbedding, packEmbedding } from "./stats/embedding.js";
import { encodeRow } from "./stats/multivariate-encoding.js";
import { residual } from "./stats/pca.js";

/** How long a loaded fit is used before the current profile is read again. */
export const SCORER_TTL_MS = 60_000;

interface Bound {
  profile: MultivariateProfile;
  pca: { errorSlot: number; residualSlots: number[] } | null;
  /** Each embedding of the fit whose derived slots are registered: its packed fit and slots. */
  embeddings: { name: string; packed: PackedEmbedding; slots: number[] }[];
}

interface Loaded {
  at: number;
  fit: Bound | null;
}

/** The fit of a profile with the slots its scores go to (null: nothing to score). */
function bind(model: RegisteredModel, profile: MultivariateProfile | null | undefined): Bound | null {
  if (!profile) return null;
  const slotOf = (name: string) => model.features.find((f) => f.derived && f.active && f.name === name)?.slot;
  let pca: Bound["pca"] = null;
  if (profile.pca) {
    const errorSlot = slotOf(RECONSTRUCTION_COLUMN);
    const residualSlots = profile.columns.map((c) => slotOf(residualColumn(c.name)));
    if (errorSlot !== undefined && residualSlots.every((s) => s !== undefined))
      pca = { errorSlot, residualSlots: residualSlots as number[] };
  }
  // An embedding fitted with more components than the config now registers is not scored until
  // the next baseline (its bands would not match the slots).
  const embeddings = profile.embeddings.flatMap(({ name, fit }) => {
    const slots = embeddingColumns(name, fit.components.length).map(slotOf);
    return slots.every((s) => s !== undefined)
      ? [{ name, packed: packEmbedding(fit), slots: slots as number[] }]
      : [];
  });
  return pca || embeddings.length ? { profile, pca, embeddings } : null;
}

/** An ingest row scorer reading the current profile through `runs`. */
export function createIngestScorer(deps: {
  runs: Pick<MonitoringRepository, "latestProfile">;
  now?: () => number;
  ttlMs?: number;
}): RowScorer & { invalidate(modelId: number): void } {
  const now = deps.now ?? Date.now;
  const ttl = deps.ttlMs ?? SCORER_TTL_MS;
  const cache = new Map<number, Loaded>();
  async function fitOf(model: RegisteredModel): Promise<Loaded["fit"]> {
    const hit = cache.get(model.id);
    if (hit && now() - hit.at < ttl) return hit.fit;
    const latest = await deps.runs.latestProfile(model.id);
    const fit = bind(model, latest?.profile.multivariate);
    cache.set(model.id, { at: now(), fit });
    return fit;
  }
  return {
    invalidate: (modelId) => void cache.delete(modelId),
    async score(model, rows, vectors: readonly VectorColumn[] = []) {
      // Only while the monitor is configured (its slots are active).
      if (!model.features.some((f) => f.derived && f.active)) return;
      const fit = await fitOf(model);
      if (!fit) return;
      const { profile } = fit;
      if (fit.pca && profile.pca) {
        const { errorSlot, residualSlots } = fit.pca;
        const pca = profile.pca;
        const out = new Array<number>(profile.columns.length);
        const values = new Array<number | string | null>(profile.columns.length);
        for (const row of rows) {
          profile.columns.forEach((c, j) => {
            values[j] = (c.kind === "numeric" ? row.n[c.slot - 1] : row.k[c.slot - 1]) ?? null;
          });
          const error = residual(pca, encodeRow(profile.columns, values), out);
          row.n[errorSlot - 1] = error;
          residualSlots.forEach((s, j) => {
            row.n[s - 1] = (out[j] as number) ** 2;
          });
        }
      }
      for (const e of fit.embeddings) {
        const column = vectors.find((c) => c.name === e.name);
        if (!column || column.dimensions !== e.packed.dimensions) continue;
        const out = new Float64Array(e.slots.length);
        const d = column.dimensions;
        for (let i = 0; i < rows.length; i++) {
          if (!column.present[i]) continue;
          embeddingScoresInto(e.packed, column.data, i * d, out);
          const n = (rows[i] as (typeof rows)[number]).n;
          for (let k = 0; k < e.slots.length; k++) n[(e.slots[k] as number) - 1] = out[k] as number;
        }
      }
    },
  };
}
