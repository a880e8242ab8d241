import { and, asc, eq, inArray, isNull, ne, or, sql } from "drizzle-orm";
import type { Db } from "../db/index.js";
import { alerts, incidentMembers, incidents } from "../db/schema/index.js";
import type { IncidentMember } from "./group-model.js";

/** A member row without its alert. */
export type MemberRow = typeof incidentMembers.$inferSelect;

/** The only code touching `incident_members`. Pass a transaction to combine writes. */
export function createMemberRepository(db: Db) {
  return {
    async find(incidentId: number, alertId: number): Promise<MemberRow | undefined> {
      const [row] = await db
        .select()
        .from(incidentMembers)
        .where(and(eq(incidentMembers.incidentId, incidentId), eq(incidentMembers.alertId, alertId)));
      return row;
    },

    /** Adds a firing member; a member that is there already is left as it is. */
    async join(incidentId: number, alertId: number, at: Date): Promise<void> {
      await db
        .insert(incidentMembers)
        .values({ incidentId, alertId, state: "firing", joinedAt: at })
        .onConflictDoNothing();
    },

    async update(
      incidentId: number,
      alertId: number,
      patch: Partial<typeof incidentMembers.$inferInsert>,
    ): Promise<void> {
      await db
        .update(incidentMembers)
        .set(patch)
        .where(and(eq(incidentMembers.incidentId, incidentId), eq(incidentMembers.alertId, alertId)));
    },

    /** An incident's members with their alerts, in the order they joined. */
    async of(incidentId: number): Promise<IncidentMember[]> {
      const rows = await db
        .select({ m: incidentMembers, alert: alerts })
        .from(incidentMembers)
        .innerJoin(alerts, eq(alerts.id, incidentMembers.alertId))
        .where(eq(incidentMembers.incidentId, incidentId))
        .orderBy(asc(incidentMembers.joinedAt), asc(alerts.id));
      return rows.map(({ m, alert }) => ({
        alert,
        state: m.state,
        joinedAt: m.joinedAt,
        recoveredAt: m.recoveredAt,
        cleanRuns: m.cleanRuns,
        flaps: m.flaps,
      }));
    },

    /**
     * Counts run `runId` of a model's monitor as clean for every recovered member of an unresolved
     * incident that comes from that monitor (once per run); returns the incidents touched.
     */
    async countCleanRun(model: string, monitor: string, runId: number): Promise<number[]> {
      const rows = await db
        .update(incidentMembers)
        .set({ cleanRuns: sql`${incidentMembers.cleanRuns} + 1`, lastCleanRunId: runId })
        .where(
          and(
            eq(incidentMembers.state, "recovered"),
            or(isNull(incidentMembers.lastCleanRunId), ne(incidentMembers.lastCleanRunId, runId)),
            inArray(
              incidentMembers.alertId,
              db
                .select({ id: alerts.id })
                .from(alerts)
                .where(and(eq(alerts.model, model), eq(alerts.monitor, monitor))),
            ),
            inArray(
              incidentMembers.incidentId,
              db.select({ id: incidents.id }).from(incidents).where(ne(incidents.state, "resolved")),
            ),
          ),
        )
        .returning({ incidentId: incidentMembers.incidentId });
      return [...new Set(rows.map((r) => r.incidentId))].sort((a, b) => a - b);
    },
  };
}

/** The incident members' operations. */
export type MemberRepository = ReturnType<typeof createMemberRepository>;
