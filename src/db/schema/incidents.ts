import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  serial,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";
import { alerts } from "./alerts.js";
import { outbox } from "./outbox.js";

/**
 * Incidents: one open per fingerprint at a time (the fingerprint is the group key of
 * `alerting.group_by`; with every label listed it is the alert's own fingerprint), enforced by a partial unique index (a second
 * insert for the same fingerprint while one is open fails, so concurrent alerts cannot open two).
 * The id is the human reference: `INC-<id>`.
 */
export const incidents = pgTable(
  "incidents",
  {
    id: serial().primaryKey(),
    fingerprint: text().notNull(),
    alertId: bigint({ mode: "number" })
      .notNull()
      .references(() => alerts.id),
    model: text().notNull(),
    monitor: text().notNull(),
    subject: text().notNull(),
    modelVersion: text(),
    title: text().notNull(),
    severity: text().$type<"info" | "warning" | "critical">().notNull(),
    /** Who set the severity by hand (the card's select, the API); null while it follows the findings. */
    severitySetBy: text(),
    state: text().$type<"open" | "acknowledged" | "mitigated" | "resolved">().notNull(),
    /** Where the card and thread live (a channel name or id from the config). */
    channel: text().notNull(),
    /** The outbox row that posts the card; its delivered ts is the thread's parent. */
    cardOutboxId: bigint({ mode: "number" }).references(() => outbox.id),
    /** The incident's owner (the commander): set by Take it, /mlops assign, or the first acknowledgement. */
    assignee: text(),
    openedAt: timestamp({ withTimezone: true, mode: "date" }).notNull(),
    acknowledgedAt: timestamp({ withTimezone: true, mode: "date" }),
    acknowledgedBy: text(),
    mitigatedAt: timestamp({ withTimezone: true, mode: "date" }),
    mitigatedBy: text(),
    resolvedAt: timestamp({ withTimezone: true, mode: "date" }),
    resolvedBy: text(),
    resolution: text(),
    /** Firing signals while this incident was open (the counter on the card). */
    alertCount: integer().notNull().default(1),
    lastFiredAt: timestamp({ withTimezone: true, mode: "date" }).notNull(),
    /** Firings not yet reported in the thread (held back by group_interval). */
    pendingFirings: integer().notNull().default(0),
    /** When the last "fired again" reply was queued. */
    lastNoteAt: timestamp({ withTimezone: true, mode: "date" }),
    /** When to remind in the thread that the alert is still firing (repeat_interval). */
    nextReminderAt: timestamp({ withTimezone: true, mode: "date" }),
    /** When the last status update was posted (/mlops update or the Update dialog). */
    lastUpdateAt: timestamp({ withTimezone: true, mode: "date" }),
    /** When to remind the owner in the thread that no update was posted (alerting.update_every). */
    updateDueAt: timestamp({ withTimezone: true, mode: "date" }),
  },
  (t) => [
    uniqueIndex("incidents_one_open_per_fingerprint").on(t.fingerprint).where(sql`${t.state} <> 'resolved'`),
    index("incidents_state_idx").on(t.state, t.openedAt),
    index("incidents_model_idx").on(t.model, t.openedAt),
    index("incidents_update_due_idx").on(t.updateDueAt).where(sql`${t.state} <> 'resolved'`),
  ],
);

/**
 * The timeline of an incident: every alert, post, click, command and state change, with who and
 * when. This is the central log responders read instead of duplicating each other's work.
 */
export const incidentEvents = pgTable(
  "incident_events",
  {
    id: bigserial({ mode: "number" }).primaryKey(),
    incidentId: integer()
      .notNull()
      .references(() => incidents.id),
    at: timestamp({ withTimezone: true, mode: "date" }).notNull(),
    kind: text().notNull(),
    /** A Slack user id, or `system`, `monitor`, `alertmanager`, `api:<token name>`. */
    actor: text().notNull(),
    /** How it came in: `button`, `command`, `modal`, `alert`, `api`, `schedule`. */
    via: text().notNull(),
    detail: jsonb().$type<Record<string, unknown>>().notNull(),
    /** The Slack write it caused, when there was one. */
    outboxId: bigint({ mode: "number" }).references(() => outbox.id),
  },
  (t) => [
    index("incident_events_incident_idx").on(t.incidentId, t.id),
    index("incident_events_at_idx").on(t.at),
  ],
);

/**
 * The members of an incident: the alerts (one per fingerprint) that fired into it, with how each
 * stands in this incident. An alert row outlives its incidents (the same feature can drift again
 * months later), so its standing in one incident lives here; its numbers stay on the alert.
 */
export const incidentMembers = pgTable(
  "incident_members",
  {
    incidentId: integer()
      .notNull()
      .references(() => incidents.id),
    alertId: bigint({ mode: "number" })
      .notNull()
      .references(() => alerts.id),
    state: text().$type<"firing" | "recovered">().notNull(),
    joinedAt: timestamp({ withTimezone: true, mode: "date" }).notNull(),
    /** When it last recovered (null while firing). */
    recoveredAt: timestamp({ withTimezone: true, mode: "date" }),
    /** Monitor runs in a row it has been clean since it recovered (alerting.resolve_after). */
    cleanRuns: integer().notNull().default(0),
    /** The run that last counted as clean, so one run never counts twice. */
    lastCleanRunId: bigint({ mode: "number" }),
    /** Times it recovered and fired again within this incident. */
    flaps: integer().notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.incidentId, t.alertId] }),
    index("incident_members_alert_idx").on(t.alertId),
  ],
);
