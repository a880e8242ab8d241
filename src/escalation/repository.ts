import { and, asc, eq, inArray, isNull, lt, lte, ne, or, sql } from "drizzle-orm";
import type { Db } from "../db/index.js";
import { escalationPages, incidentEscalations, incidents } from "../db/schema/index.js";
import type { EscalationPolicy, EscalationRow } from "./model.js";

/** A page row. */
export type PageRow = typeof escalationPages.$inferSelect;

/** The only code touching `incident_escalations` and `escalation_pages`. Pass a transaction to combine writes. */
export function createEscalationRepository(db: Db) {
  return {
    /** Unresolved incidents that have no escalation yet (new ones; the timer starts them). */
    async unstarted(limit: number) {
      return db
        .select({ id: incidents.id, model: incidents.model, openedAt: incidents.openedAt })
        .from(incidents)
        .leftJoin(incidentEscalations, eq(incidentEscalations.incidentId, incidents.id))
        .where(and(ne(incidents.state, "resolved"), isNull(incidentEscalations.incidentId)))
        .orderBy(asc(incidents.id))
        .limit(limit);
    },

    /** Starts an escalation unless one exists (the primary key decides a race); the row when inserted. */
    async start(values: {
      incidentId: number;
      model: string;
      policy: EscalationPolicy;
      /** The tier it starts at (1, or the severity's start tier). */
      tier?: number;
      tierSince: Date;
      nextAt: Date | null;
      pagesAtTier: number;
      step: number;
      now: Date;
    }): Promise<EscalationRow | undefined> {
      const [row] = await db
        .insert(incidentEscalations)
        .values({
          incidentId: values.incidentId,
          model: values.model,
          policy: values.policy as unknown as Record<string, unknown>,
          tier: values.tier ?? 1,
          pagesAtTier: values.pagesAtTier,
          step: values.step,
          tierSince: values.tierSince,
          nextAt: values.nextAt,
          nextKind: values.nextAt ? "escalate" : null,
          startedAt: values.now,
          updatedAt: values.now,
        })
        .onConflictDoNothing({ target: incidentEscalations.incidentId })
        .returning();
      return row;
    },

    async byIncident(incidentId: number, lock = false): Promise<EscalationRow | undefined> {
      const q = db.select().from(incidentEscalations).where(eq(incidentEscalations.incidentId, incidentId));
      const [row] = lock ? await q.for("update") : await q;
      return row;
    },

    /** Due deadlines, locked, skipping rows another replica holds. */
    async due(now: Date, limit: number): Promise<EscalationRow[]> {
      return db
        .select()
        .from(incidentEscalations)
        .where(lte(incidentEscalations.nextAt, now))
        .orderBy(asc(incidentEscalations.nextAt))
        .limit(limit)
        .for("update", { skipLocked: true });
    },

    async update(incidentId: number, patch: Partial<typeof incidentEscalations.$inferInsert>) {
      const [row] = await db
        .update(incidentEscalations)
        .set(patch)
        .where(eq(incidentEscalations.incidentId, incidentId))
        .returning();
      if (!row) throw new Error(`escalation of incident ${incidentId} vanished during an update`);
      return row;
    },

    /** Records a page to fan out; the (incident, step) key makes a second one for the same step fail. */
    async addPage(values: {
      incidentId: number;
      step: number;
      tier: number;
      reason: string;
      actor: string;
      note: string | null;
      now: Date;
    }): Promise<PageRow> {
      const [row] = await db
        .insert(escalationPages)
        .values({ ...values, createdAt: values.now })
        .returning();
      if (!row) throw new Error("page insert returned no row");
      return row;
    },

    /**
     * Claims pending pages for fanning out: a lease, so another replica leaves them alone until it
     * runs out (a crashed holder's pages are taken again then).
     */
    async claimPages(now: Date, leaseMs: number, limit: number): Promise<PageRow[]> {
      const candidates = db
        .select({ id: escalationPages.id })
        .from(escalationPages)
        .where(
          and(
            eq(escalationPages.state, "pending"),
            or(isNull(escalationPages.leaseUntil), lt(escalationPages.leaseUntil, now)),
          ),
        )
        .orderBy(asc(escalationPages.id))
        .limit(limit)
        .for("update", { skipLocked: true });
      return db
        .update(escalationPages)
        .set({
          leaseUntil: new Date(now.getTime() + leaseMs),
          attempts: sql`${escalationPages.attempts} + 1`,
        })
        .where(inArray(escalationPages.id, candidates))
        .returning();
    },

    /** Marks a page done if it still is pending: exactly one caller gets true. */
    async finishPage(
      id: number,
      now: Date,
      members: string[],
      mentionOutboxId: number | null,
    ): Promise<boolean> {
      const rows = await db
        .update(escalationPages)
        .set({ state: "done", doneAt: now, leaseUntil: null, members, mentionOutboxId, lastError: null })
        .where(and(eq(escalationPages.id, id), eq(escalationPages.state, "pending")))
        .returning({ id: escalationPages.id });
      return rows.length > 0;
    },

    /** Gives the page back to wait (Slack unreachable, card not out yet). */
    async releasePage(id: number, availableAt: Date, error: string | null): Promise<void> {
      await db
        .update(escalationPages)
        .set({ leaseUntil: availableAt, lastError: error?.slice(0, 500) ?? null })
        .where(and(eq(escalationPages.id, id), eq(escalationPages.state, "pending")));
    },

    /** Takes back every page lease at once: only safe when no other process shares the database (PGlite). */
    async releaseAllLeases(): Promise<void> {
      await db.update(escalationPages).set({ leaseUntil: null }).where(eq(escalationPages.state, "pending"));
    },

    async pagesOf(incidentId: number): Promise<PageRow[]> {
      return db
        .select()
        .from(escalationPages)
        .where(eq(escalationPages.incidentId, incidentId))
        .orderBy(asc(escalationPages.step));
    },
  };
}

/** The escalation tables' operations. */
export type EscalationRepository = ReturnType<typeof createEscalationRepository>;
