/** The only code touching `oncall_calendars`: the shared last good copies of URL schedules. */
import { eq, sql } from "drizzle-orm";
import type { Db } from "../db/index.js";
import { oncallCalendars } from "../db/schema/index.js";

/** A stored calendar row. */
export type CalendarRow = typeof oncallCalendars.$inferSelect;

/** Creates the calendar repository over `db`. */
export function createCalendarRepository(db: Db) {
  return {
    /** Every stored row. */
    all(): Promise<CalendarRow[]> {
      return db.select().from(oncallCalendars);
    },

    /** The row of `schedule`, if any. */
    async get(schedule: string): Promise<CalendarRow | undefined> {
      const [row] = await db.select().from(oncallCalendars).where(eq(oncallCalendars.schedule, schedule));
      return row;
    },

    /** Stores a good copy (or confirms the stored one, `text` undefined: a 304) and ends any failure streak. */
    async recordGood(
      schedule: string,
      at: Date,
      copy?: { text: string; etag: string | null },
    ): Promise<void> {
      const good = { fetchedAt: at, checkedAt: at, failingSince: null, lastError: null };
      await db
        .insert(oncallCalendars)
        .values({ schedule, ...good, ...(copy ?? {}) })
        .onConflictDoUpdate({ target: oncallCalendars.schedule, set: { ...good, ...(copy ?? {}) } });
    },

    /**
     * Records a failed fetch, keeping the stored copy; true when this failure starts a streak (the
     * feed was good, or never fetched, until now), which is when it is alerted.
     */
    async recordFailure(schedule: string, at: Date, message: string): Promise<boolean> {
      const [row] = await db
        .insert(oncallCalendars)
        .values({ schedule, checkedAt: at, failingSince: at, lastError: message })
        .onConflictDoUpdate({
          target: oncallCalendars.schedule,
          set: {
            checkedAt: at,
            lastError: message,
            failingSince: sql`coalesce(${oncallCalendars.failingSince}, excluded.failing_since)`,
          },
        })
        .returning({ failingSince: oncallCalendars.failingSince });
      return row?.failingSince?.getTime() === at.getTime();
    },
  };
}
