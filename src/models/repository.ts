import { and, asc, eq, inArray, ne, sql } from "drizzle-orm";
import type { Db } from "../db/index.js";
import { models, modelVersions } from "../db/schema/index.js";
import type { FeatureSlot, RegisteredModel } from "./model.js";

/** The only code touching `models` and `model_versions`. */
export function createModelRepository(db: Db) {
  return {
    async list(): Promise<RegisteredModel[]> {
      const rows = await db.select().from(models).orderBy(asc(models.slug));
      return rows.map(toModel);
    },
    async bySlug(slug: string): Promise<RegisteredModel | undefined> {
      const [row] = await db.select().from(models).where(eq(models.slug, slug));
      return row ? toModel(row) : undefined;
    },
    async upsert(row: Omit<RegisteredModel, "id"> & { features: FeatureSlot[] }, at: Date): Promise<void> {
      await db
        .insert(models)
        .values({ ...row, syncedAt: at })
        .onConflictDoUpdate({
          target: models.slug,
          set: {
            name: row.name,
            task: row.task,
            confidenceThreshold: row.confidenceThreshold,
            features: row.features,
            syncedAt: at,
          },
        });
    },
    /** Records versions not seen before; existing ones are left alone. */
    async addVersions(modelId: number, versions: string[]): Promise<void> {
      if (versions.length === 0) return;
      await db
        .insert(modelVersions)
        .values(versions.map((version) => ({ modelId, version })))
        .onConflictDoNothing();
    },
    /** Makes `version` the model's only champion. */
    async setChampion(modelId: number, version: string): Promise<void> {
      await db.transaction(async (tx) => {
        await tx
          .update(modelVersions)
          .set({ isChampion: false })
          .where(and(eq(modelVersions.modelId, modelId), ne(modelVersions.version, version)));
        await tx
          .insert(modelVersions)
          .values({ modelId, version, isChampion: true })
          .onConflictDoUpdate({
            target: [modelVersions.modelId, modelVersions.version],
            set: { isChampion: true },
          });
      });
    },
    /** Makes `version` the champion because the bot promoted it (it then outranks the config's). */
    async promote(modelId: number, version: string, at: Date): Promise<void> {
      await db
        .update(modelVersions)
        .set({ isChampion: false })
        .where(and(eq(modelVersions.modelId, modelId), ne(modelVersions.version, version)));
      await db
        .insert(modelVersions)
        .values({ modelId, version, isChampion: true, promotedAt: at })
        .onConflictDoUpdate({
          target: [modelVersions.modelId, modelVersions.version],
          set: { isChampion: true, promotedAt: at },
        });
    },
    /** The current champion of a model, with when the bot promoted it (null: from the config). */
    async champion(modelId: number): Promise<{ version: string; promotedAt: Date | null } | undefined> {
      const [row] = await db
        .select({ version: modelVersions.version, promotedAt: modelVersions.promotedAt })
        .from(modelVersions)
        .where(and(eq(modelVersions.modelId, modelId), eq(modelVersions.isChampion, true)));
      return row;
    },
    async versions(modelIds: number[]) {
      if (modelIds.length === 0) return [];
      return db
        .select({
          modelId: modelVersions.modelId,
          version: modelVersions.version,
          isChampion: modelVersions.isChampion,
          firstSeenAt: modelVersions.firstSeenAt,
        })
        .from(modelVersions)
        .where(inArray(modelVersions.modelId, modelIds))
        .orderBy(asc(modelVersions.firstSeenAt), asc(sql`${modelVersions.version}`));
    },
  };
}

function toModel(row: typeof models.$inferSelect): RegisteredModel {
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    task: row.task,
    confidenceThreshold: row.confidenceThreshold,
    features: row.features,
  };
}
