import { and, asc, eq, gt, isNull, lte, or, sql } from "drizzle-orm";
import type { Db } from "../db/index.js";
import { alerts, silences } from "../db/schema/index.js";
import type { Alert, Silence } from "./model.js";

/** The only code touching `alerts` and `silences`. Pass a transaction to combine writes. */
export function createAlertRepository(db: Db) {
  return {
    /** Inserts the first alert of a fingerprint; undefined when a concurrent insert won. */
    async insert(values: typeof alerts.$inferInsert): Promise<Alert | undefined> {
      const [row] = await db.insert(alerts).values(values).onConflictDoNothing().returning();
      return row;
    },

    /**
     * Applies a signal to the fingerprint's alert in one statement (which also locks the row, so
     * the signals of one fingerprint are handled one at a time); undefined when there is none yet.
     */
    async record(
      fingerprint: string,
      patch: Partial<typeof alerts.$inferInsert>,
      fired: boolean,
    ): Promise<Alert | undefined> {
      const [row] = await db
        .update(alerts)
        .set({ ...patch, fireCount: sql`${alerts.fireCount} + ${fired ? 1 : 0}` })
        .where(eq(alerts.fingerprint, fingerprint))
        .returning();
      return row;
    },

    /** The alert's state before this signal (locked, so the signal's own update follows it). */
    async stateOf(fingerprint: string): Promise<Alert["state"] | undefined> {
      const [row] = await db
        .select({ state: alerts.state })
        .from(alerts)
        .where(eq(alerts.fingerprint, fingerprint))
        .for("update");
      return row?.state;
    },

    async update(id: number, patch: Partial<typeof alerts.$inferInsert>): Promise<Alert> {
      const [row] = await db.update(alerts).set(patch).where(eq(alerts.id, id)).returning();
      if (!row) throw new Error(`alert ${id} vanished during an update`);
      return row;
    },

    async byId(id: number): Promise<Alert | undefined> {
      const [row] = await db.select().from(alerts).where(eq(alerts.id, id));
      return row;
    },

    /** The active silences that cover this alert (or its incident's group key), longest-running first. */
    async silencing(
      a: { model: string; monitor: string; fingerprint: string; groupKey?: string | undefined },
      now: Date,
    ): Promise<Silence[]> {
      return db
        .select()
        .from(silences)
        .where(
          and(
            isNull(silences.endedAt),
            lte(silences.startsAt, now),
            gt(silences.endsAt, now),
            or(isNull(silences.model), eq(silences.model, a.model)),
            or(isNull(silences.monitor), eq(silences.monitor, a.monitor)),
            or(
              isNull(silences.fingerprint),
              eq(silences.fingerprint, a.fingerprint),
              a.groupKey ? eq(silences.fingerprint, a.groupKey) : undefined,
            ),
          ),
        )
        .orderBy(sql`${silences.endsAt} desc`);
    },

    async insertSilence(values: typeof silences.$inferInsert): Promise<Silence> {
      const [row] = await db.insert(silences).values(values).returning();
      if (!row) throw new Error("silence insert returned no row");
      return row;
    },

    async silenceById(id: number): Promise<Silence | undefined> {
      const [row] = await db.select().from(silences).where(eq(silences.id, id));
      return row;
    },

    /** Ends a silence early; undefined when it was already over. */
    async endSilence(id: number, by: string, at: Date): Promise<Silence | undefined> {
      const [row] = await db
        .update(silences)
        .set({ endedAt: at, endedBy: by, expiryNotedAt: at })
        .where(and(eq(silences.id, id), isNull(silences.endedAt), gt(silences.endsAt, at)))
        .returning();
      return row;
    },

    /** Silences in force now, ending soonest first. */
    async activeSilences(now: Date): Promise<Silence[]> {
      return db
        .select()
        .from(silences)
        .where(and(isNull(silences.endedAt), lte(silences.startsAt, now), gt(silences.endsAt, now)))
        .orderBy(asc(silences.endsAt));
    },

    /** Silences that ran out and whose end was not yet noted on their incidents; locked, skipping busy ones. */
    async dueExpiries(now: Date, limit: number): Promise<Silence[]> {
      return db
        .select()
        .from(silences)
        .where(and(isNull(silences.endedAt), isNull(silences.expiryNotedAt), lte(silences.endsAt, now)))
        .orderBy(asc(silences.id))
        .limit(limit)
        .for("update", { skipLocked: true });
    },

    async markExpiryNoted(id: number, at: Date): Promise<void> {
      await db.update(silences).set({ expiryNotedAt: at }).where(eq(silences.id, id));
    },
  };
}

/** The alert and silence tables' operations. */
export type AlertRepository = ReturnType<typeof createAlertRepository>;
