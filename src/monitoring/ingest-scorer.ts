/**
 * Scores ingested rows against the current reference's multivariate fit: the PCA reconstruction
 * error and each column's squared standardised residual, written into the row's derived `num`
 * slots (src/models/derived.ts) so rollups and raw-row reductions read the same values. The fit is
 * kept in memory per model: dropped when this process sets a baseline, and reloaded after `ttlMs`
 * so other replicas pick up a new one. Rows of a model with no multivariate fit get no scores.
 */
import type { RowScorer } from "../ingest/ports.js";
import { RECONSTRUCTION_COLUMN, type RegisteredModel, residualColumn } from "../models/index.js";
import type { MultivariateProfile } from "./multivariate-profile.js";
import type { MonitoringRepository } from "./repository.js";
import { encodeRow } from "./stats/multivariate-encoding.js";
import { residual } from "./stats/pca.js";

/** How long a loaded fit is used before the current profile is read again. */
export const SCORER_TTL_MS = 60_000;

interface Loaded {
  at: number;
  fit: { profile: MultivariateProfile; errorSlot: number; residualSlots: number[] } | null;
}

/** The fit of a profile with the slots its scores go to (null: nothing to score). */
function bind(model: RegisteredModel, profile: MultivariateProfile | null | undefined): Loaded["fit"] {
  if (!profile?.pca) return null;
  const slotOf = (name: string) => model.features.find((f) => f.derived && f.name === name)?.slot;
  const errorSlot = slotOf(RECONSTRUCTION_COLUMN);
  const residualSlots = profile.columns.map((c) => slotOf(residualColumn(c.name)));
  if (errorSlot === undefined || residualSlots.some((s) => s === undefined)) return null;
  return { profile, errorSlot, residualSlots: residualSlots as number[] };
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
    async score(model, rows) {
      // Only while the monitor is configured (its slots are active).
      if (!model.features.some((f) => f.derived && f.active)) return;
      const fit = await fitOf(model);
      if (!fit) return;
      const { profile, errorSlot, residualSlots } = fit;
      const pca = profile.pca as NonNullable<MultivariateProfile["pca"]>;
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
    },
  };
}
