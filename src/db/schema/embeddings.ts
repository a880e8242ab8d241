import { customType, integer, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";
import { models } from "./models.js";

const bytea = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => "bytea" });

/**
 * A bounded sample of embedding vectors per model and feature, kept for the multivariate monitor's
 * baseline fit and domain classifier (vectors never enter `predictions` or the rollups). Pool 0 is
 * a ring of the latest `embedding_sample` vectors sampled at ingest (at most that many per monitor
 * window, spread over its minutes), overwritten slot by slot; a pool numbered by a reference profile's id holds the vectors
 * pinned when that reference was set (only the newest reference's pool is kept).
 */
export const embeddingSamples = pgTable(
  "embedding_samples",
  {
    modelId: integer()
      .notNull()
      .references(() => models.id, { onDelete: "cascade" }),
    feature: text().notNull(),
    pool: integer().notNull(),
    slot: integer().notNull(),
    /** The prediction's timestamp. */
    ts: timestamp({ withTimezone: true, mode: "date" }).notNull(),
    /** The vector's little-endian float32 bytes. */
    vector: bytea().notNull(),
  },
  (t) => [primaryKey({ columns: [t.modelId, t.feature, t.pool, t.slot] })],
);
