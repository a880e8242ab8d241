/**
 * Pager calls are rows of `adapter_calls` with kind `pager` (the retraining worker skips them): the
 * same lease, attempts and backoff columns, the incident and pager in `payload`, the provider's
 * answer in `result`.
 */
import { asc, eq, inArray, sql } from "drizzle-orm";
import { resultRows } from "../db/client.js";
import type { Db } from "../db/index.js";
import { adapterCalls } from "../db/schema/index.js";
import { PAGER_MAX_ATTEMPTS, type PagerCallPayload } from "./model.js";

/** A pager call row. */
export type PagerCall = typeof adapterCalls.$inferSelect & {
  payload: PagerCallPayload & Record<string, unknown>;
};

/** How far back the follow-up pass looks for triggers. */
export const FOLLOW_UP_DAYS = 30;

/** A trigger whose incident has moved on and whose pager has not been told yet. */
export interface PendingFollowUp {
  incidentId: number;
  model: string;
  ref: string;
  pager: string;
  action: "acknowledge" | "resolve";
}

/** The only file touching pager calls. */
export function createPagerRepository(db: Db) {
  return {
    /** Queues one call at `now`, due at `availableAt` (`done`: recorded as already told). */
    async add(
      model: string,
      payload: PagerCallPayload,
      now: Date,
      availableAt: Date = now,
      state: "pending" | "done" = "pending",
    ) {
      const [row] = await db
        .insert(adapterCalls)
        .values({
          kind: "pager",
          model,
          payload: { ...payload },
          state,
          maxAttempts: PAGER_MAX_ATTEMPTS,
          availableAt,
          createdAt: now,
          ...(state === "done" ? { doneAt: now, result: { answeredThere: true } } : {}),
        })
        .returning({ id: adapterCalls.id });
      if (!row) throw new Error("pager call insert returned no row");
      return row.id;
    },

    /** Claims due pager calls with a lease (another replica skips them). */
    async claimDue(now: Date, leaseMs: number, limit: number): Promise<PagerCall[]> {
      const at = now.toISOString();
      const rows = await db.execute(sql`
        update ${adapterCalls} set state = 'calling', attempts = attempts + 1,
          lease_until = ${new Date(now.getTime() + leaseMs).toISOString()}::timestamptz
        where id in (
          select id from ${adapterCalls}
          where kind = 'pager'
            and ((state = 'pending' and available_at <= ${at}::timestamptz)
              or (state = 'calling' and lease_until <= ${at}::timestamptz))
          order by id limit ${limit} for update skip locked)
        returning id`);
      const ids = resultRows<{ id: number | string }>(rows).map((r) => Number(r.id));
      if (ids.length === 0) return [];
      return (await db
        .select()
        .from(adapterCalls)
        .where(inArray(adapterCalls.id, ids))
        .orderBy(asc(adapterCalls.id))) as PagerCall[];
    },

    async byId(id: number, lock = false): Promise<PagerCall | undefined> {
      const q = db.select().from(adapterCalls).where(eq(adapterCalls.id, id));
      const [row] = lock ? await q.for("update") : await q;
      return row as PagerCall | undefined;
    },

    async update(id: number, patch: Partial<typeof adapterCalls.$inferInsert>): Promise<void> {
      await db.update(adapterCalls).set(patch).where(eq(adapterCalls.id, id));
    },

    /**
     * Triggers that reached their provider whose incident is now acknowledged (or mitigated) or
     * resolved, and whose pager has no call of that action yet: what to tell the provider. Only
     * triggers of the last `FOLLOW_UP_DAYS` are looked at, so the pass stays small as calls pile up
     * (an incident left open longer is resolved in the provider by hand).
     */
    async pendingFollowUps(now: Date, limit: number): Promise<PendingFollowUp[]> {
      const since = new Date(now.getTime() - FOLLOW_UP_DAYS * 86_400_000).toISOString();
      const rows = await db.execute(sql`
        select distinct t.model, (t.payload ->> 'incidentId')::int as incident_id, t.payload ->> 'ref' as ref,
          t.payload ->> 'pager' as pager,
          case when i.state = 'resolved' then 'resolve' else 'acknowledge' end as action
        from ${adapterCalls} t
        join incidents i on i.id = (t.payload ->> 'incidentId')::int
        where t.kind = 'pager' and t.state = 'done' and t.payload ->> 'action' = 'trigger'
          and t.created_at > ${since}::timestamptz
          and coalesce(t.result ->> 'skipped', '') = ''
          and i.state in ('acknowledged', 'mitigated', 'resolved')
          and not exists (
            select 1 from ${adapterCalls} f
            where f.kind = 'pager' and f.payload ->> 'incidentId' = t.payload ->> 'incidentId'
              and f.payload ->> 'pager' = t.payload ->> 'pager'
              and f.payload ->> 'action' = case when i.state = 'resolved' then 'resolve' else 'acknowledge' end)
        limit ${limit}`);
      return resultRows<{ model: string; incident_id: number; ref: string; pager: string; action: string }>(
        rows,
      ).map((r) => ({
        model: r.model,
        incidentId: Number(r.incident_id),
        ref: r.ref,
        pager: r.pager,
        action: r.action as "acknowledge" | "resolve",
      }));
    },

    /** Whether `pager` was triggered for the incident (a call queued or made, not skipped). */
    async triggered(incidentId: number, pager: string): Promise<boolean> {
      const rows = await db.execute(sql`
        select 1 from ${adapterCalls}
        where kind = 'pager' and payload ->> 'incidentId' = ${String(incidentId)}
          and payload ->> 'pager' = ${pager} and payload ->> 'action' = 'trigger'
          and coalesce(result ->> 'skipped', '') = '' limit 1`);
      return resultRows(rows).length > 0;
    },
  };
}
