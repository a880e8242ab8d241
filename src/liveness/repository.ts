import { eq, type SQL, type SQLWrapper, sql } from "drizzle-orm";
import { resultRows } from "../db/client.js";
import type { Db } from "../db/index.js";
import { processes } from "../db/schema/index.js";
import { MISSED_BEATS } from "./model.js";

/** `now() - heartbeatMs × MISSED_BEATS`: older heartbeats belong to dead processes (database clock). */
function deadline(heartbeatMs: number): SQL {
  return sql`(now() - ${Math.round(heartbeatMs * MISSED_BEATS)}::int * interval '1 millisecond')`;
}

/**
 * SQL that is true when the process named by `claimer` is known and alive: its row exists and it
 * beat within the last two heartbeats. Claims held by such a process are respected.
 */
export function claimerAlive(claimer: SQLWrapper, heartbeatMs: number): SQL {
  return sql`exists (select 1 from processes lp where lp.id = ${claimer} and lp.heartbeat_at > ${deadline(heartbeatMs)})`;
}

/**
 * SQL that is true when the process named by `claimer` is known and dead: its row exists and its
 * heartbeat stopped. Its claims are free at once. (A claimer with no row at all is neither: it
 * predates heartbeats, or stopped gracefully; callers fall back to their lease or age rule.)
 */
export function claimerDead(claimer: SQLWrapper, heartbeatMs: number): SQL {
  return sql`exists (select 1 from processes lp where lp.id = ${claimer} and lp.heartbeat_at <= ${deadline(heartbeatMs)})`;
}

/** SQL that is true when no process row names `claimer`. */
export function claimerUnknown(claimer: SQLWrapper): SQL {
  return sql`not exists (select 1 from processes lp where lp.id = ${claimer})`;
}

/** The only code writing `processes`. */
export function createProcessRepository(db: Db) {
  return {
    /** Records a process as alive now (database clock). */
    async register(id: string, host: string, pid: number): Promise<void> {
      await db.execute(sql`insert into processes (id, host, pid, started_at, heartbeat_at)
        values (${id}, ${host}, ${pid}, now(), now())
        on conflict (id) do update set heartbeat_at = now()`);
    },
    /** Refreshes the heartbeat; false when the row was gone (then it is written again). */
    async beat(id: string, host: string, pid: number): Promise<boolean> {
      const rows = await db
        .update(processes)
        .set({ heartbeatAt: sql`now()` })
        .where(eq(processes.id, id))
        .returning({ id: processes.id });
      if (rows.length) return true;
      await this.register(id, host, pid);
      return false;
    },
    /** Deletes the row of a process that stops gracefully. */
    async remove(id: string): Promise<void> {
      await db.delete(processes).where(eq(processes.id, id));
    },
    /**
     * Marks every other process dead: only when no other process can share the database (PGlite),
     * so claims left by the previous, killed, process are free now rather than two heartbeats later.
     */
    async expireOthers(id: string): Promise<number> {
      const rows = resultRows<{ id: string }>(
        await db.execute(
          sql`update processes set heartbeat_at = now() - interval '1 hour'
            where id <> ${id} and heartbeat_at > now() - interval '1 hour' returning id`,
        ),
      );
      return rows.length;
    },
    /**
     * Deletes rows of processes dead for longer than `ageMs`. Safe once `ageMs` exceeds every
     * fallback rule (cron claims: 60 min; leases: a minute), which then frees their claims anyway.
     */
    async prune(ageMs: number): Promise<number> {
      const rows = resultRows<{ id: string }>(
        await db.execute(
          sql`delete from processes where heartbeat_at < now() - ${Math.round(ageMs)}::bigint * interval '1 millisecond' returning id`,
        ),
      );
      return rows.length;
    },
    /** Every row (tests, /readyz-style checks). */
    async all() {
      return db.select().from(processes).orderBy(processes.startedAt);
    },
  };
}

/** The processes table's operations. */
export type ProcessRepository = ReturnType<typeof createProcessRepository>;
