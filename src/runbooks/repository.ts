import { and, desc, eq, isNull, lt, or } from "drizzle-orm";
import type { Db } from "../db/index.js";
import { runbookRuns } from "../db/schema/index.js";
import { claimerDead } from "../liveness/index.js";
import type { RunbookRun } from "./model.js";

/** The only code touching `runbook_runs`. Pass a transaction to combine writes. */
export function createRunbookRepository(db: Db) {
  return {
    async insert(values: typeof runbookRuns.$inferInsert): Promise<RunbookRun> {
      const [row] = await db.insert(runbookRuns).values(values).returning();
      if (!row) throw new Error("runbook run insert returned no row");
      return row;
    },

    /**
     * Inserts a `running` run unless the runbook already runs for the same incident (the
     * partial unique index `runbook_runs_one_active_idx`); undefined when it does.
     */
    async insertUnlessActive(values: typeof runbookRuns.$inferInsert): Promise<RunbookRun | undefined> {
      const [row] = await db.insert(runbookRuns).values(values).onConflictDoNothing().returning();
      return row;
    },

    /** The run of `runbook` that is `running` for the incident (null: for no incident), if any. */
    async activeFor(runbook: string, incidentId: number | null): Promise<RunbookRun | undefined> {
      const [row] = await db
        .select()
        .from(runbookRuns)
        .where(
          and(
            eq(runbookRuns.runbook, runbook),
            incidentId === null ? isNull(runbookRuns.incidentId) : eq(runbookRuns.incidentId, incidentId),
            eq(runbookRuns.status, "running"),
          ),
        )
        .limit(1);
      return row;
    },

    async update(id: number, patch: Partial<typeof runbookRuns.$inferInsert>): Promise<RunbookRun> {
      const [row] = await db.update(runbookRuns).set(patch).where(eq(runbookRuns.id, id)).returning();
      if (!row) throw new Error(`runbook run ${id} vanished during an update`);
      return row;
    },

    /** Finishes a run only while it is still `running` (a sweep may have marked it interrupted). */
    async finish(
      id: number,
      patch: Partial<typeof runbookRuns.$inferInsert>,
    ): Promise<RunbookRun | undefined> {
      const [row] = await db
        .update(runbookRuns)
        .set(patch)
        .where(and(eq(runbookRuns.id, id), eq(runbookRuns.status, "running")))
        .returning();
      return row;
    },

    async byId(id: number): Promise<RunbookRun | undefined> {
      const [row] = await db.select().from(runbookRuns).where(eq(runbookRuns.id, id));
      return row;
    },

    /** Refreshes the heartbeat of the runs this process owns. */
    async heartbeat(ids: number[], owner: string, at: Date): Promise<void> {
      for (const id of ids)
        await db
          .update(runbookRuns)
          .set({ heartbeatAt: at })
          .where(
            and(eq(runbookRuns.id, id), eq(runbookRuns.owner, owner), eq(runbookRuns.status, "running")),
          );
    },

    /**
     * Marks `interrupted` the runs no live process owns: all `running` ones when `staleBefore` is
     * undefined (PGlite: one process per data directory), else those whose heartbeat is older or
     * whose owner process missed its liveness heartbeats (`heartbeatMs`).
     * Returns them, locked rows skipped so two starting replicas do not both report one.
     */
    async interruptOrphans(
      at: Date,
      staleBefore: Date | undefined,
      heartbeatMs?: number,
    ): Promise<RunbookRun[]> {
      const orphans = await db
        .select({ id: runbookRuns.id })
        .from(runbookRuns)
        .where(
          and(
            eq(runbookRuns.status, "running"),
            staleBefore
              ? or(
                  lt(runbookRuns.heartbeatAt, staleBefore),
                  heartbeatMs ? claimerDead(runbookRuns.owner, heartbeatMs) : undefined,
                )
              : undefined,
          ),
        )
        .for("update", { skipLocked: true });
      const out: RunbookRun[] = [];
      for (const { id } of orphans) {
        const row = await this.finish(id, { status: "interrupted", finishedAt: at });
        if (row) out.push(row);
      }
      return out;
    },

    /** Runs newest first, optionally of one incident. */
    async recent(opts: { incidentId?: number; limit?: number } = {}): Promise<RunbookRun[]> {
      return db
        .select()
        .from(runbookRuns)
        .where(opts.incidentId ? eq(runbookRuns.incidentId, opts.incidentId) : undefined)
        .orderBy(desc(runbookRuns.id))
        .limit(opts.limit ?? 20);
    },
  };
}

/** The runbook runs table's operations. */
export type RunbookRepository = ReturnType<typeof createRunbookRepository>;
