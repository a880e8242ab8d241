import { sql } from "drizzle-orm";
import {
  boolean,
  doublePrecision,
  integer,
  jsonb,
  pgTable,
  serial,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";

/** One feature of a model and where its values live in a prediction row (`num[slot]` or `cat[slot]`). */
export interface FeatureSlotRow {
  name: string;
  type: "numeric" | "categorical";
  /** 1-based index into `predictions.num` (numeric) or `predictions.cat` (categorical); never reused. */
  slot: number;
  /** False once the feature left the config; its slot stays reserved. */
  active: boolean;
  /**
   * A score the bot writes at ingest (e.g. the multivariate reconstruction error), not an input:
   * rolled up like a numeric feature, kept out of drift, data quality and the reference's features.
   */
  derived?: boolean;
}

/** The model registry, synced from the config at start. */
export const models = pgTable("models", {
  id: serial().primaryKey(),
  slug: text().notNull().unique(),
  name: text().notNull(),
  task: text().$type<"binary_classification" | "multiclass_classification" | "regression">().notNull(),
  confidenceThreshold: doublePrecision().notNull(),
  features: jsonb().$type<FeatureSlotRow[]>().notNull(),
  syncedAt: timestamp({ withTimezone: true, mode: "date" }).notNull().defaultNow(),
});

/** Versions of a model seen in the config or in ingested predictions; at most one champion per model. */
export const modelVersions = pgTable(
  "model_versions",
  {
    id: serial().primaryKey(),
    modelId: integer()
      .notNull()
      .references(() => models.id, { onDelete: "cascade" }),
    version: text().notNull(),
    isChampion: boolean().notNull().default(false),
    /** Set when the bot promoted this version (retraining); the config's `champion` then no longer overrides it. */
    promotedAt: timestamp({ withTimezone: true, mode: "date" }),
    firstSeenAt: timestamp({ withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("model_versions_model_version_uq").on(t.modelId, t.version),
    uniqueIndex("model_versions_one_champion_uq").on(t.modelId).where(sql`${t.isChampion}`),
  ],
);
