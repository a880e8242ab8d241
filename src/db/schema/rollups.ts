import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  index,
  integer,
  json,
  pgTable,
  primaryKey,
  text,
  timestamp,
} from "drizzle-orm/pg-core";
import { models } from "./models.js";

/**
 * The aggregates monitors read (see src/rollups/model.ts for the document in `data`), per model ×
 * model version × segment × time bucket, at two grains: `minute` (kept as long as raw rows, for
 * the edges of a window) and `hour` (kept for a year and more, for everything in between).
 * `segment` is '' for all traffic; a segmented rollup carries e.g. `country=DE`.
 */
export const rollups = pgTable(
  "rollups",
  {
    modelId: integer()
      .notNull()
      .references(() => models.id, { onDelete: "cascade" }),
    segment: text().notNull().default(""),
    grain: text().$type<"minute" | "hour">().notNull(),
    bucket: timestamp({ withTimezone: true, mode: "date" }).notNull(),
    modelVersion: text().notNull(),
    rows: bigint({ mode: "number" }).notNull(),
    data: json().notNull(),
    updatedAt: timestamp({ withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.modelId, t.segment, t.grain, t.bucket, t.modelVersion] }),
    index("rollups_grain_bucket_idx").on(t.grain, t.bucket),
  ],
);

/**
 * Aggregates written by ingest (and by labels, and by pre-aggregated profiles) in the same
 * transaction as their rows, insert-only so concurrent batches never contend; a claimed folder
 * merges them into `rollups` within a second or two. Readers add the deltas not yet folded, so a
 * monitor sees a prediction as soon as its batch committed.
 */
export const rollupDeltas = pgTable(
  "rollup_deltas",
  {
    id: bigserial({ mode: "number" }).primaryKey(),
    modelId: integer()
      .notNull()
      .references(() => models.id, { onDelete: "cascade" }),
    segment: text().notNull().default(""),
    bucket: timestamp({ withTimezone: true, mode: "date" }).notNull(),
    modelVersion: text().notNull(),
    data: json().notNull(),
    createdAt: timestamp({ withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [index("rollup_deltas_model_bucket_idx").on(t.modelId, t.bucket)],
);

/**
 * Labels whose prediction is not stored (yet): they wait `labels.early_wait` for it, then are
 * counted in `label_stats` as unmatched.
 */
export const pendingLabels = pgTable(
  "pending_labels",
  {
    modelId: integer()
      .notNull()
      .references(() => models.id, { onDelete: "cascade" }),
    requestId: text().notNull(),
    label: text().notNull(),
    receivedAt: timestamp({ withTimezone: true, mode: "date" }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.modelId, t.requestId] }),
    index("pending_labels_received_idx").on(t.receivedAt),
  ],
);

/** Per model: labels that never found their prediction (expired raw row, or never sent). */
export const labelStats = pgTable("label_stats", {
  modelId: integer()
    .primaryKey()
    .references(() => models.id, { onDelete: "cascade" }),
  unmatched: bigint({ mode: "number" }).notNull().default(0),
  joinedLate: bigint({ mode: "number" }).notNull().default(0),
  lastUnmatchedAt: timestamp({ withTimezone: true, mode: "date" }),
});

/** Ids of accepted pre-aggregated profiles, so a resent profile is counted once (kept 7 days). */
export const profileReceipts = pgTable(
  "profile_receipts",
  {
    modelId: integer()
      .notNull()
      .references(() => models.id, { onDelete: "cascade" }),
    profileId: text().notNull(),
    receivedAt: timestamp({ withTimezone: true, mode: "date" }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.modelId, t.profileId] }),
    index("profile_receipts_received_idx").on(t.receivedAt),
  ],
);

/** One-off maintenance state, e.g. whether the rollups were backfilled from pre-rollup rows. */
export const maintenanceState = pgTable("maintenance_state", {
  key: text().primaryKey(),
  value: text().notNull(),
  updatedAt: timestamp({ withTimezone: true, mode: "date" }).notNull().default(sql`now()`),
});
