import { index, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";

/**
 * One row per (job, cron tick) that some replica claimed: the primary key makes a tick run once
 * across replicas; `finished_at` null marks a run in progress (no overlap of the same job).
 */
export const cronClaims = pgTable(
  "cron_claims",
  {
    job: text().notNull(),
    tickAt: timestamp({ withTimezone: true, mode: "date" }).notNull(),
    claimedBy: text().notNull(),
    claimedAt: timestamp({ withTimezone: true, mode: "date" }).notNull(),
    finishedAt: timestamp({ withTimezone: true, mode: "date" }),
    outcome: text(),
  },
  (t) => [primaryKey({ columns: [t.job, t.tickAt] }), index("cron_claims_claimed_idx").on(t.claimedAt)],
);
