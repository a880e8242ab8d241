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
 * Time-ordered by `ts`; the (model_id, ts) index serves every window. Partition by `ts` when
 * retention is added.
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
    labelledAt: timestamp({ withTimezone: true, mode: "date" }),
    ingestedAt: timestamp({ withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.modelId, t.requestId] }),
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
  },
  (t) => [index("reference_samples_upload_idx").on(t.uploadId)],
);
