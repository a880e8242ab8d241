import { and, desc, eq, isNull, sql } from "drizzle-orm";
import { type Db, resultRows } from "../db/client.js";
import { cronClaims } from "../db/schema/index.js";
import { claimerAlive, claimerUnknown } from "../liveness/index.js";

/** Arbitrary fixed namespace of the advisory locks that serialise claims of one job. */
const CLAIM_LOCK_NAMESPACE = 0x63726f6e; // "cron"

/** The only code touching `cron_claims`. */
export function createCronClaimRepository(db: Db) {
  return {
    /**
     * Claims (job, tick) for `by` unless another run of the job is still in progress: unfinished
     * and held by a live process (one whose heartbeat is fresh, see `liveness/`). A claim of a
     * process that missed its heartbeats is finished as abandoned and no longer blocks; one whose
     * claimer has no liveness row (claimed before heartbeats existed) blocks until `staleBefore`.
     * A transaction-scoped advisory lock on the job makes the check and the insert one step across
     * replicas; the primary key makes a tick claimable once.
     */
    async claim(
      job: string,
      tickAt: Date,
      by: string,
      at: Date,
      staleBefore: Date,
      heartbeatMs: number,
    ): Promise<"claimed" | "taken" | "busy"> {
      return db.transaction(async (tx) => {
        await tx.execute(sql`select pg_advisory_xact_lock(${CLAIM_LOCK_NAMESPACE}, hashtext(${job}))`);
        const claimer = sql.raw("cron_claims.claimed_by");
        const held = sql`(${claimerAlive(claimer, heartbeatMs)} or (${claimerUnknown(claimer)} and claimed_at > ${staleBefore.toISOString()}::timestamptz))`;
        const others = sql`job = ${job} and finished_at is null and tick_at <> ${tickAt.toISOString()}::timestamptz`;
        await tx.execute(sql`update cron_claims set finished_at = ${at.toISOString()}::timestamptz,
            outcome = 'abandoned: the process running it stopped'
          where ${others} and not ${held}`);
        const busy = resultRows<{ n: number }>(
          await tx.execute(sql`select count(*)::int as n from cron_claims where ${others} and ${held}`),
        )[0]?.n;
        const inserted = await tx
          .insert(cronClaims)
          .values({ job, tickAt, claimedBy: by, claimedAt: at })
          .onConflictDoNothing()
          .returning({ job: cronClaims.job });
        if (inserted.length === 0) return "taken";
        if (busy) {
          await tx
            .update(cronClaims)
            .set({ finishedAt: at, outcome: "skipped: previous run still in progress" })
            .where(and(eq(cronClaims.job, job), eq(cronClaims.tickAt, tickAt)));
          return "busy";
        }
        return "claimed";
      });
    },
    /** Gives back a claim whose run never started (the process is stopping), so another replica may run the tick. */
    async release(job: string, tickAt: Date): Promise<void> {
      await db
        .delete(cronClaims)
        .where(and(eq(cronClaims.job, job), eq(cronClaims.tickAt, tickAt), isNull(cronClaims.finishedAt)));
    },
    async finish(job: string, tickAt: Date, at: Date, outcome: string): Promise<void> {
      await db
        .update(cronClaims)
        .set({ finishedAt: at, outcome: outcome.slice(0, 500) })
        .where(and(eq(cronClaims.job, job), eq(cronClaims.tickAt, tickAt)));
    },
    /** The newest tick claimed for a job, by anyone. */
    async lastTick(job: string): Promise<Date | null> {
      const [row] = await db
        .select({ tickAt: cronClaims.tickAt })
        .from(cronClaims)
        .where(eq(cronClaims.job, job))
        .orderBy(desc(cronClaims.tickAt))
        .limit(1);
      return row?.tickAt ?? null;
    },
    async claimsOf(job: string) {
      return db.select().from(cronClaims).where(eq(cronClaims.job, job)).orderBy(cronClaims.tickAt);
    },
  };
}
