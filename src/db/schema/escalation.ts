import {
  bigint,
  bigserial,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";
import { incidents } from "./incidents.js";

/**
 * One row per incident that escalation watches: the policy frozen when it started (so editing the
 * config never changes a running escalation), the tier paged last, and the next deadline. Deadlines
 * are rows, not timers: any replica claims due ones with `FOR UPDATE SKIP LOCKED`, so a restart
 * loses nothing and two replicas never take the same step.
 */
export const incidentEscalations = pgTable(
  "incident_escalations",
  {
    incidentId: integer()
      .primaryKey()
      .references(() => incidents.id),
    model: text().notNull(),
    /** The policy snapshot (tiers with their groups, waits, repeats, DMs; reminder interval). */
    policy: jsonb().$type<Record<string, unknown>>().notNull(),
    /** 1 (L1 operators), 2 (L2 data scientists) or 3 (L3 model owners). */
    tier: integer().notNull().default(1),
    /** How many times the current tier has been paged (repeats count). */
    pagesAtTier: integer().notNull().default(0),
    /** Increases with every page; pages are unique per (incident, step). */
    step: integer().notNull().default(0),
    /** When the current tier was reached; an acknowledgement after it stops the timer. */
    tierSince: timestamp({ withTimezone: true, mode: "date" }).notNull(),
    /** The next time the timer acts, or null when nothing is pending. */
    nextAt: timestamp({ withTimezone: true, mode: "date" }),
    /** What it does then: `escalate` (unless acknowledged) or `remind` (acknowledged, unresolved). */
    nextKind: text().$type<"escalate" | "remind">(),
    /** The last acknowledgement of a page (from a DM) while the incident was already acknowledged. */
    pageAckedAt: timestamp({ withTimezone: true, mode: "date" }),
    pageAckedBy: text(),
    startedAt: timestamp({ withTimezone: true, mode: "date" }).notNull(),
    updatedAt: timestamp({ withTimezone: true, mode: "date" }).notNull(),
  },
  (t) => [index("incident_escalations_next_idx").on(t.nextAt)],
);

/**
 * A page of one tier: the thread mention and the members' DMs, fanned out by whichever replica
 * claims the row (a lease, taken with SKIP LOCKED). Finishing it writes the Slack messages into the
 * outbox in the same transaction that marks it done, so each member gets one DM per step.
 */
export const escalationPages = pgTable(
  "escalation_pages",
  {
    id: bigserial({ mode: "number" }).primaryKey(),
    incidentId: integer()
      .notNull()
      .references(() => incidents.id),
    step: integer().notNull(),
    tier: integer().notNull(),
    /** Why: `manual` (a person escalated), `timeout` (nobody acknowledged in time), `repeat`, `open`. */
    reason: text().notNull(),
    actor: text().notNull(),
    note: text(),
    state: text().$type<"pending" | "done">().notNull().default("pending"),
    leaseUntil: timestamp({ withTimezone: true, mode: "date" }),
    attempts: integer().notNull().default(0),
    lastError: text(),
    createdAt: timestamp({ withTimezone: true, mode: "date" }).notNull(),
    doneAt: timestamp({ withTimezone: true, mode: "date" }),
    /** Who was DMed, with the outbox rows that carry the DMs. */
    members: jsonb().$type<string[]>().notNull().default([]),
    mentionOutboxId: bigint({ mode: "number" }),
  },
  (t) => [
    uniqueIndex("escalation_pages_step_idx").on(t.incidentId, t.step),
    index("escalation_pages_state_idx").on(t.state, t.createdAt),
  ],
);
