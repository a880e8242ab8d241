import {
  bigint,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
} from "drizzle-orm/pg-core";
import { models } from "./models.js";

/**
 * Ingested predictions, one row each, keyed by the caller's request id so a replayed batch stores
 * nothing twice. Feature values are positional (`num[slot]`, `cat[slot]`, slots from
 * `models.features`) so window reductions read two small arrays instead of parsing JSON; values of
 * keys the config does not know, or of the wrong type, are kept in `extra`.
 * Partitioned by day on `ts` (the partitions are made and dropped by src/storage, the migration
 * that introduced them declares the table as `partition by range (ts)`), so retention drops a
 * day at a time. A partitioned table's key must hold the partition key: a replay is recognised
 * by (model, request id, ts), which a resent batch always repeats. Monitors never read this
 * table: they read `rollups`; raw rows serve labels, backfill and debugging within retention.
 */
export const predictions = pgTable(
  "predictions",
  {
    modelId: integer()
      .notNull()
      .references(() => models.id, { onDelete: "cascade" }),
    requestId: text().notNull(),
    ts: timestamp({ withTimezone: true, mode: "date" }).notNull(),
    modelVersion: text().notNull(),
    prediction: text().notNull(),
    confidence: doublePrecision(),
    num: doublePrecision().array().notNull(),
    cat: text().array().notNull(),
    extra: jsonb().$type<Record<string, unknown>>(),
    label: text(),
    /** A multiclass model's probability per class, `{"<class>": p}` (null: none sent). */
    probabilities: jsonb().$type<Record<string, number>>(),
    labelledAt: timestamp({ withTimezone: true, mode: "date" }),
    ingestedAt: timestamp({ withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.modelId, t.requestId, t.ts] }),
    index("predictions_model_ts_idx").on(t.modelId, t.ts),
  ],
);

/**
 * Rows of a labelled reference upload, staged in the predictions layout so the same SQL reduces
 * them; deleted once their profile is stored.
 */
export const referenceSamples = pgTable(
  "reference_samples",
  {
    uploadId: bigint({ mode: "number" }).notNull(),
    modelId: integer()
      .notNull()
      .references(() => models.id, { onDelete: "cascade" }),
    requestId: text().notNull(),
    ts: timestamp({ withTimezone: true, mode: "date" }).notNull(),
    modelVersion: text().notNull(),
    prediction: text().notNull(),
    confidence: doublePrecision(),
    num: doublePrecision().array().notNull(),
    cat: text().array().notNull(),
    extra: jsonb().$type<Record<string, unknown>>(),
    label: text(),
    /** As `predictions.probabilities`. */
    probabilities: jsonb().$type<Record<string, number>>(),
  },
  (t) => [index("reference_samples_upload_idx").on(t.uploadId)],
);
