import { integer, pgTable, text, timestamp } from "drizzle-orm/pg-core";

/**
 * One row per running bot process: its heartbeat ties the claims it holds (cron ticks, outbox
 * rows, runbook runs) to its life. A claim whose process has missed two heartbeats is free; a
 * process deletes its own row when it stops gracefully. Times are the database's clock.
 */
export const processes = pgTable("processes", {
  /** `<host>:<pid>:<random>`, written into the claims the process holds. */
  id: text().primaryKey(),
  host: text().notNull(),
  pid: integer().notNull(),
  startedAt: timestamp({ withTimezone: true, mode: "date" }).notNull(),
  heartbeatAt: timestamp({ withTimezone: true, mode: "date" }).notNull(),
});
