import { bigserial, index, pgTable, text, timestamp } from "drizzle-orm/pg-core";

/**
 * Someone takes over an on-call schedule for a while (`/mlops oncall override`). The engine applies
 * the rows that are not undone; undoing keeps the row (who undid it, when) for the audit trail.
 */
export const oncallOverrides = pgTable(
  "oncall_overrides",
  {
    id: bigserial({ mode: "number" }).primaryKey(),
    schedule: text().notNull(),
    /** The Slack user id on call during [from, to). */
    who: text().notNull(),
    from: timestamp({ withTimezone: true, mode: "date" }).notNull(),
    to: timestamp({ withTimezone: true, mode: "date" }).notNull(),
    createdBy: text().notNull(),
    createdAt: timestamp({ withTimezone: true, mode: "date" }).notNull(),
    undoneBy: text(),
    undoneAt: timestamp({ withTimezone: true, mode: "date" }),
  },
  (t) => [index("oncall_overrides_schedule_idx").on(t.schedule, t.to)],
);

/**
 * The last good copy of each schedule fetched from an iCal URL, shared by every replica: one
 * replica fetches per claimed tick, and all of them (and a restart) answer from this copy. A failed
 * fetch leaves `text` alone and marks the streak (`failing_since`), which is alerted once.
 */
export const oncallCalendars = pgTable("oncall_calendars", {
  schedule: text().primaryKey(),
  /** The last feed that parsed with events; null until one did. */
  text: text(),
  /** When `text` was fetched (or last confirmed unchanged by a 304). */
  fetchedAt: timestamp({ withTimezone: true, mode: "date" }),
  /** The server's ETag of `text`, sent back as If-None-Match. */
  etag: text(),
  /** The last attempt, good or bad: when the next one is due. */
  checkedAt: timestamp({ withTimezone: true, mode: "date" }).notNull(),
  /** The first failure of the current streak; null while the feed is good. */
  failingSince: timestamp({ withTimezone: true, mode: "date" }),
  lastError: text(),
});
