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
