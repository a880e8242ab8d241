import { and, asc, count, eq, inArray, lt, lte, or, sql } from "drizzle-orm";
import { resultRows } from "../db/client.js";
import type { Db } from "../db/index.js";
import { outbox } from "../db/schema/index.js";
import { claimerDead, type ProcessIdentity } from "../liveness/index.js";
import { storableStrings } from "../shared/storable.js";
import {
  CLAIM_LOST_PREFIX,
  isPaced,
  type OutboxMessage,
  type OutboxRow,
  type Pacing,
  streamOf,
} from "./model.js";

function ts(date: Date) {
  return sql`${date.toISOString()}::timestamptz`;
}

/** The only code touching `outbox`. Pass a transaction to enqueue together with the change. */
export function createOutboxRepository(db: Db) {
  return {
    /**
     * Queues one write. Edits are kept to one pending write per message: an edit with a
     * `coalesceKey` replaces the content of a pending edit with the same key; an edit of a post
     * that has not gone out yet is folded into that post (which then carries the newest content).
     * Other messages get a row of their own. Returns the id of the row that will deliver it.
     */
    async enqueue(message: OutboxMessage, now: Date): Promise<number> {
      const clean = storableStrings(message.payload);
      const payload = JSON.stringify(clean);
      if (message.method === "chat.update" && message.coalesceKey) {
        const [replaced] = await db
          .update(outbox)
          .set({ payload: sql`${payload}::jsonb` })
          .where(and(eq(outbox.coalesceKey, message.coalesceKey), eq(outbox.state, "pending")))
          .returning({ id: outbox.id });
        if (replaced) return replaced.id;
      }
      if (message.method === "chat.update" && message.parentId !== undefined) {
        // One statement: fold into the pending post, and drop edits of it still pending (queued while
        // the post was out for an attempt that failed): they hold older content than the post now.
        const rows = await db.execute(sql`
          with folded as (
            update ${outbox} set payload = payload || ${payload}::jsonb
            where id = ${message.parentId} and state = 'pending'
            returning id
          ), dropped as (
            update ${outbox} set state = 'superseded'
            where parent_id = ${message.parentId} and method = 'chat.update' and state = 'pending'
              and exists (select 1 from folded)
          )
          select id from folded`);
        const folded = resultRows<{ id: number | string }>(rows)[0];
        if (folded) return Number(folded.id);
      }
      const [row] = await db
        .insert(outbox)
        .values({
          createdAt: now,
          availableAt: new Date(now.getTime() + (message.delayMs ?? 0)),
          stream: streamOf(message),
          method: message.method,
          channel: message.channel,
          parentId: message.parentId ?? null,
          payload: clean,
          coalesceKey: message.coalesceKey ?? null,
          paced: isPaced(message.method),
          state: "pending",
        })
        .returning({ id: outbox.id });
      if (!row) throw new Error("outbox insert returned no row");
      return row.id;
    },

    /** Tells listening dispatchers (other processes on Postgres) that there is work; sent at commit. */
    async notify(): Promise<void> {
      await db.execute(sql`select pg_notify('mlops_outbox', '')`);
    },

    /**
     * Claims up to `limit` rows that may go now: pending and due, the oldest open row of their
     * stream (so each channel is delivered strictly in order, one write in flight at a time, across
     * any number of dispatchers), and within the channel's pace. Claimed rows are `sending` with a
     * lease, and name the claiming process (`by`), whose death frees them; the claim commits
     * before anything is sent.
     */
    async claim(opts: {
      now: Date;
      limit: number;
      leaseMs: number;
      pacing: Pacing;
      by?: string | undefined;
    }): Promise<OutboxRow[]> {
      const { now, limit, leaseMs, pacing } = opts;
      const windowStart = new Date(now.getTime() - pacing.windowMs);
      const candidates = db
        .select({ id: outbox.id })
        .from(outbox)
        .where(
          and(
            eq(outbox.state, "pending"),
            lte(outbox.availableAt, now),
            sql`not exists (select 1 from ${outbox} e where e.stream = ${outbox.stream} and e.id < ${outbox.id} and e.state in ('pending', 'sending'))`,
            sql`(not ${outbox.paced} or (select count(*) from ${outbox} s where s.channel = ${outbox.channel} and s.paced and s.claimed_at > ${ts(windowStart)}) < ${pacing.burst})`,
          ),
        )
        .orderBy(asc(outbox.id))
        .limit(limit)
        .for("update", { skipLocked: true });
      return db
        .update(outbox)
        .set({
          state: "sending",
          attempts: sql`${outbox.attempts} + 1`,
          claimedAt: now,
          claimedBy: opts.by ?? null,
          leaseUntil: new Date(now.getTime() + leaseMs),
        })
        .where(inArray(outbox.id, candidates))
        .returning();
    },

    /** The Slack id of a channel the outbox has delivered to under `channel` (a name or an id), if any. */
    async deliveredChannelId(channel: string): Promise<string | undefined> {
      const [row] = await db
        .select({ id: outbox.resultChannel })
        .from(outbox)
        .where(and(eq(outbox.channel, channel), sql`${outbox.resultChannel} is not null`))
        .limit(1);
      return row?.id ?? undefined;
    },

    /** The rows a delivery hangs on (thread parents, edited posts). */
    async byIds(ids: number[]): Promise<OutboxRow[]> {
      if (ids.length === 0) return [];
      return db.select().from(outbox).where(inArray(outbox.id, ids)).orderBy(asc(outbox.id));
    },

    async byId(id: number): Promise<OutboxRow | undefined> {
      const [row] = await db.select().from(outbox).where(eq(outbox.id, id));
      return row;
    },

    /** Records a delivery; only the holder of the claim can (a row is never marked sent twice). */
    async markSent(id: number, at: Date, result: { ts?: string | undefined; channel?: string | undefined }) {
      const rows = await db
        .update(outbox)
        .set({
          state: "sent",
          sentAt: at,
          resultTs: result.ts ?? null,
          resultChannel: result.channel ?? null,
          leaseUntil: null,
          lastError: null,
        })
        .where(and(eq(outbox.id, id), eq(outbox.state, "sending")))
        .returning({ id: outbox.id });
      return rows.length > 0;
    },

    /** Puts a claimed row back to wait until `availableAt` (Retry-After, backoff). */
    async reschedule(id: number, availableAt: Date, error: string): Promise<void> {
      await db
        .update(outbox)
        .set({ state: "pending", availableAt, lastError: error.slice(0, 500), leaseUntil: null })
        .where(and(eq(outbox.id, id), eq(outbox.state, "sending")));
    },

    /** Gives up on a row Slack refused for good. */
    async markFailed(id: number, error: string): Promise<void> {
      await db
        .update(outbox)
        .set({ state: "failed", lastError: error.slice(0, 500), leaseUntil: null })
        .where(and(eq(outbox.id, id), eq(outbox.state, "sending")));
    },

    /**
     * Takes back rows whose sender vanished (crash, SIGKILL): at once when the claiming process
     * missed its heartbeats (`liveness`), else once their lease ran out; returns how many.
     */
    async releaseExpired(now: Date, liveness?: Pick<ProcessIdentity, "heartbeatMs">): Promise<number> {
      const expired = lt(outbox.leaseUntil, now);
      const rows = await db
        .update(outbox)
        .set({
          state: "pending",
          leaseUntil: null,
          claimedBy: null,
          lastError: `${CLAIM_LOST_PREFIX}expired: the sender stopped`,
        })
        .where(
          and(
            eq(outbox.state, "sending"),
            liveness ? or(expired, claimerDead(outbox.claimedBy, liveness.heartbeatMs)) : expired,
          ),
        )
        .returning({ id: outbox.id });
      return rows.length;
    },

    /** Takes back every claimed row at once: only safe when no other process can hold claims (PGlite). */
    async releaseAllClaims(): Promise<number> {
      const rows = await db
        .update(outbox)
        .set({ state: "pending", leaseUntil: null, lastError: `${CLAIM_LOST_PREFIX}released at start` })
        .where(eq(outbox.state, "sending"))
        .returning({ id: outbox.id });
      return rows.length;
    },

    /** Row counts by state, for tests, benches and /readyz-style checks. */
    async countByState(): Promise<Record<string, number>> {
      const rows = await db.select({ state: outbox.state, n: count() }).from(outbox).groupBy(outbox.state);
      return Object.fromEntries(rows.map((r) => [r.state, r.n]));
    },

    /** Every row, oldest first (tests and benches). */
    async all(): Promise<OutboxRow[]> {
      return db.select().from(outbox).orderBy(asc(outbox.id));
    },
  };
}

/** The outbox table's operations. */
export type OutboxRepository = ReturnType<typeof createOutboxRepository>;
