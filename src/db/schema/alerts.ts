import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  serial,
  text,
  timestamp,
} from "drizzle-orm/pg-core";

/**
 * One row per problem fingerprint (model + monitor + subject): its latest state and what the last
 * signal said, with first/last seen and how often it fired. Incidents point at it.
 */
export const alerts = pgTable(
  "alerts",
  {
    id: bigserial({ mode: "number" }).primaryKey(),
    fingerprint: text().notNull().unique(),
    model: text().notNull(),
    monitor: text().notNull(),
    subject: text().notNull(),
    source: text().$type<"monitor" | "alertmanager" | "manual">().notNull(),
    state: text().$type<"firing" | "resolved">().notNull(),
    severity: text().$type<"info" | "warning" | "critical">().notNull(),
    modelVersion: text(),
    title: text().notNull(),
    summary: text().notNull(),
    rule: text().notNull(),
    metrics: jsonb().$type<Record<string, number | string | null>>().notNull(),
    labels: jsonb().$type<Record<string, string>>().notNull(),
    monitorRunId: bigint({ mode: "number" }),
    firstSeenAt: timestamp({ withTimezone: true, mode: "date" }).notNull(),
    lastSeenAt: timestamp({ withTimezone: true, mode: "date" }).notNull(),
    resolvedAt: timestamp({ withTimezone: true, mode: "date" }),
    /** Firing signals received for this fingerprint, ever. */
    fireCount: integer().notNull().default(0),
  },
  (t) => [index("alerts_model_idx").on(t.model, t.state)],
);

/**
 * Silences mute notifications for a model, a monitor of a model, or one fingerprint, from
 * `starts_at` until `ends_at` (or until someone ends it). Alerts are still recorded while muted.
 */
export const silences = pgTable(
  "silences",
  {
    id: serial().primaryKey(),
    model: text(),
    monitor: text(),
    fingerprint: text(),
    /** The incident it was set from (`/mlops silence INC-n`, the card's button), for display. */
    incidentId: integer(),
    startsAt: timestamp({ withTimezone: true, mode: "date" }).notNull(),
    endsAt: timestamp({ withTimezone: true, mode: "date" }).notNull(),
    createdBy: text().notNull(),
    reason: text().notNull(),
    endedAt: timestamp({ withTimezone: true, mode: "date" }),
    endedBy: text(),
    /** Set once the expiry has been noted on the incidents it muted. */
    expiryNotedAt: timestamp({ withTimezone: true, mode: "date" }),
  },
  (t) => [
    index("silences_active_idx").on(t.endsAt).where(sql`${t.endedAt} is null`),
    check(
      "silences_has_matcher",
      sql`${t.model} is not null or ${t.monitor} is not null or ${t.fingerprint} is not null`,
    ),
  ],
);
