import { bigserial, index, integer, jsonb, pgTable, serial, text, timestamp } from "drizzle-orm/pg-core";
import { models } from "./models.js";

/**
 * A model's reference profile: what "normal" looks like, computed once from a window of ingested
 * data or a labelled upload and reused by every monitor run. The newest row per model is in force.
 */
export const referenceProfiles = pgTable(
  "reference_profiles",
  {
    id: serial().primaryKey(),
    modelId: integer()
      .notNull()
      .references(() => models.id, { onDelete: "cascade" }),
    modelVersion: text(),
    source: jsonb().$type<Record<string, unknown>>().notNull(),
    rows: integer().notNull(),
    profile: jsonb().$type<Record<string, unknown>>().notNull(),
    createdBy: text().notNull(),
    createdAt: timestamp({ withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [index("reference_profiles_model_idx").on(t.modelId, t.createdAt)],
);

/** Every monitor run, whether it alerted or not: window, row counts, metrics, rule, findings, duration. */
export const monitorRuns = pgTable(
  "monitor_runs",
  {
    id: bigserial({ mode: "number" }).primaryKey(),
    modelId: integer()
      .notNull()
      .references(() => models.id, { onDelete: "cascade" }),
    monitor: text().notNull(),
    trigger: text().$type<"schedule" | "manual" | "realtime">().notNull(),
    status: text().$type<"ok" | "alert" | "skipped" | "error">().notNull(),
    windowFrom: timestamp({ withTimezone: true, mode: "date" }),
    windowTo: timestamp({ withTimezone: true, mode: "date" }),
    rows: integer().notNull().default(0),
    labelledRows: integer(),
    metrics: jsonb().$type<Record<string, unknown>>().notNull().default({}),
    rule: text().notNull().default(""),
    findings: jsonb().$type<Record<string, unknown>[]>().notNull().default([]),
    profileId: integer(),
    error: text(),
    startedAt: timestamp({ withTimezone: true, mode: "date" }).notNull(),
    durationMs: integer().notNull(),
  },
  (t) => [
    index("monitor_runs_model_monitor_idx").on(t.modelId, t.monitor, t.startedAt),
    index("monitor_runs_started_idx").on(t.startedAt),
  ],
);
