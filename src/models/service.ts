import type { MlopsConfig } from "../config/index.js";
import type { Db } from "../db/index.js";
import type { Clock } from "../shared/clock.js";
import { derivedFeatures } from "./derived.js";
import { UnknownModelError } from "./errors.js";
import { assignSlots, type RegisteredModel } from "./model.js";
import { createModelRepository } from "./repository.js";

/**
 * The model registry: synced from the config at start, then read from memory (the config does
 * not change while the process runs). Versions seen in ingested predictions are recorded once each.
 */
export function createModelRegistry(db: Db, clock: Clock) {
  const repo = createModelRepository(db);
  const bySlug = new Map<string, RegisteredModel>();
  const knownVersions = new Map<number, Set<string>>();

  return {
    /** Writes every configured model (slots kept stable) and its champion; loads the registry. */
    async sync(config: MlopsConfig): Promise<RegisteredModel[]> {
      for (const m of config.models) {
        const existing = await repo.bySlug(m.slug);
        await repo.upsert(
          {
            slug: m.slug,
            name: m.name,
            task: m.task,
            confidenceThreshold: m.confidence_threshold,
            features: assignSlots(existing?.features ?? [], [
              // An embedding has no slot: its vector is never stored in a row, its scores are derived slots.
              ...m.features.flatMap((f) => (f.type === "embedding" ? [] : [{ name: f.name, type: f.type }])),
              ...derivedFeatures(m),
            ]),
          },
          clock.now(),
        );
      }
      const all = await repo.list();
      bySlug.clear();
      for (const model of all) bySlug.set(model.slug, model);
      for (const m of config.models) {
        const model = bySlug.get(m.slug);
        if (!model || !m.champion) continue;
        // A version the bot promoted (retraining) stays champion until the config names it too or
        // a later promotion replaces it; the config's `champion` is the starting point.
        const current = await repo.champion(model.id);
        if (current?.promotedAt && current.version !== m.champion) continue;
        await repo.setChampion(model.id, m.champion);
      }
      return all.filter((m) => config.models.some((c) => c.slug === m.slug));
    },
    /** The registered model, or undefined. */
    find(slug: string): RegisteredModel | undefined {
      return bySlug.get(slug);
    },
    /** The registered model; throws UnknownModelError. */
    get(slug: string): RegisteredModel {
      const model = bySlug.get(slug);
      if (!model) throw new UnknownModelError(slug);
      return model;
    },
    list(): RegisteredModel[] {
      return [...bySlug.values()];
    },
    /** Records versions first seen in a batch (memoised, so a steady stream costs nothing). */
    async noteVersions(modelId: number, versions: Iterable<string>): Promise<void> {
      let known = knownVersions.get(modelId);
      if (!known) {
        known = new Set();
        knownVersions.set(modelId, known);
      }
      const fresh = [...new Set(versions)].filter((v) => !known.has(v));
      if (fresh.length === 0) return;
      await repo.addVersions(modelId, fresh);
      for (const v of fresh) known.add(v);
    },
    versions: (modelIds: number[]) => repo.versions(modelIds),
    /** The model's champion version (promoted by the bot, or from the config), if any. */
    async champion(slug: string): Promise<string | undefined> {
      const model = bySlug.get(slug);
      return model ? (await repo.champion(model.id))?.version : undefined;
    },
  };
}

/** The model registry. */
export type ModelRegistry = ReturnType<typeof createModelRegistry>;
