import { and, asc, count, desc, eq, inArray, lte, or, sql } from "drizzle-orm";
import { resultRows } from "../db/client.js";
import type { Db } from "../db/index.js";
import { outbox, outboxMethodHolds } from "../db/schema/index.js";
import { claimerDead, type ProcessIdentity } from "../liveness/index.js";
import { storableStrings } from "../shared/storable.js";
import {
  CLAIM_LOST_PREFIX,
  isPaced,
  type OutboxMessage,
  type OutboxMethod,
  type OutboxRow,
  type Pacing,
  streamOf,
} from "./model.js";

/** `ms` milliseconds as an SQL interval. */
function millis(ms: number) {
  return sql`(${Math.round(ms)} * interval '1 millisecond')`;
}

/** A claim on one row, as `claim` returned it: the row id and the claim's id. */
export interface Claim {
  id: number;
  claimId: string | null;
}

/** The row is still `sending` under this claim. */
function holding(claim: Claim) {
  if (!claim.claimId) return sql`false`;
  return and(eq(outbox.id, claim.id), eq(outbox.state, "sending"), eq(outbox.claimId, claim.claimId));
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
     * any number of dispatchers) whose parent, if any, is no longer waiting, within the channel's pace, and of a method not held back after a
     * workspace-wide 429. Claimed rows are `sending` with a fresh `claim_id` and a lease, and name
     * the claiming process (`by`), whose death frees them; the claim commits before anything is
     * sent. Leases and pacing use the database's clock (one clock for every replica); `now` (the
     * caller's clock, which also stamps `available_at`) decides what is due.
     */
    async claim(opts: {
      now: Date;
      limit: number;
      leaseMs: number;
      pacing: Pacing;
      by?: string | undefined;
    }): Promise<OutboxRow[]> {
      const { now, limit, leaseMs, pacing } = opts;
      const candidates = db
        .select({ id: outbox.id })
        .from(outbox)
        .where(
          and(
            eq(outbox.state, "pending"),
            lte(outbox.availableAt, now),
            sql`not exists (select 1 from ${outbox} e where e.stream = ${outbox.stream} and e.id < ${outbox.id} and e.state in ('pending', 'sending'))`,
            // A row in another stream than its parent (a chart under its card) waits for the parent.
            sql`(${outbox.parentId} is null or not exists (select 1 from ${outbox} p where p.id = ${outbox.parentId} and p.state in ('pending', 'sending')))`,
            sql`(not ${outbox.paced} or (select count(*) from ${outbox} s where s.channel = ${outbox.channel} and s.paced and s.claimed_at > now() - ${millis(pacing.windowMs)}) < ${pacing.burst})`,
            sql`not exists (select 1 from ${outboxMethodHolds} h where h.method = ${outbox.method} and h.until > now())`,
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
          claimId: sql`gen_random_uuid()`,
          claimedAt: sql`now()`,
          claimedBy: opts.by ?? null,
          leaseUntil: sql`now() + ${millis(leaseMs)}`,
        })
        .where(inArray(outbox.id, candidates))
        .returning();
    },

    /** How many rows of `method` hang under a parent row (in any state). */
    async countUnder(parentId: number, method: OutboxMethod): Promise<number> {
      const [row] = await db
        .select({ n: sql<number>`count(*)::int` })
        .from(outbox)
        .where(and(eq(outbox.parentId, parentId), eq(outbox.method, method)));
      return Number(row?.n ?? 0);
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

    /**
     * Records a delivery. Every change after a send is fenced by the claim: it applies only while
     * the row is still `sending` under `claimId`, so a sender whose lease ran out (a pause, a slow
     * upload) cannot touch a row another sender has claimed since. Returns whether it applied.
     */
    async markSent(
      claim: Claim,
      at: Date,
      result: { ts?: string | undefined; channel?: string | undefined },
    ): Promise<boolean> {
      const rows = await db
        .update(outbox)
        .set({
          state: "sent",
          sentAt: at,
          resultTs: result.ts ?? null,
          resultChannel: result.channel ?? null,
          leaseUntil: null,
          claimId: null,
          lastError: null,
        })
        .where(holding(claim))
        .returning({ id: outbox.id });
      return rows.length > 0;
    },

    /**
     * Puts a claimed row back to wait until `availableAt` (Retry-After, backoff). `counted: false`
     * gives the attempt back (a 429, a paused workspace): it does not count towards the cap.
     */
    async reschedule(
      claim: Claim,
      availableAt: Date,
      error: string,
      opts: { counted?: boolean } = {},
    ): Promise<boolean> {
      const rows = await db
        .update(outbox)
        .set({
          state: "pending",
          availableAt,
          lastError: error.slice(0, 500),
          leaseUntil: null,
          claimId: null,
          ...(opts.counted === false ? { attempts: sql`greatest(${outbox.attempts} - 1, 0)` } : {}),
        })
        .where(holding(claim))
        .returning({ id: outbox.id });
      return rows.length > 0;
    },

    /** Gives up on a row Slack refused for good (`failed`) or that ran out of attempts (`dead`). */
    async markFailed(claim: Claim, error: string, state: "failed" | "dead" = "failed"): Promise<boolean> {
      const rows = await db
        .update(outbox)
        .set({
          state,
          lastError: error.slice(0, 500),
          leaseUntil: null,
          claimId: null,
          deadAt: sql`now()`,
        })
        .where(holding(claim))
        .returning({ id: outbox.id });
      return rows.length > 0;
    },

    /**
     * Takes back rows whose sender vanished (crash, SIGKILL): at once when the claiming process
     * missed its heartbeats (`liveness`), else once their lease ran out (database clock); returns
     * how many.
     */
    async releaseExpired(liveness?: Pick<ProcessIdentity, "heartbeatMs">): Promise<number> {
      const expired = sql`${outbox.leaseUntil} < now()`;
      const rows = await db
        .update(outbox)
        .set({
          state: "pending",
          leaseUntil: null,
          claimId: null,
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

    /** Holds `method` back for every row and replica for `ms` (database clock), after a workspace-wide 429. */
    async holdMethod(method: string, ms: number, reason: string): Promise<void> {
      await db.execute(sql`
        insert into ${outboxMethodHolds} (method, until, reason)
        values (${method}, now() + ${millis(ms)}, ${reason})
        on conflict (method) do update set
          until = greatest(${outboxMethodHolds.until}, excluded.until), reason = excluded.reason`);
    },

    /** Rows given up on (`dead` and `failed`), newest first: what `/mlops outbox` lists. */
    async deadLetters(limit = 20): Promise<OutboxRow[]> {
      return db
        .select()
        .from(outbox)
        .where(inArray(outbox.state, ["dead", "failed"]))
        .orderBy(desc(outbox.id))
        .limit(limit);
    },

    /** How many rows are `dead` or `failed`. */
    async countDeadLetters(): Promise<number> {
      const [row] = await db
        .select({ n: count() })
        .from(outbox)
        .where(inArray(outbox.state, ["dead", "failed"]));
      return row?.n ?? 0;
    },

    /**
     * Queues a dead letter again with a fresh count of attempts, due at `now`; it goes out in its
     * stream's order (before later rows of its channel). Returns the row, or undefined when it was
     * not a dead letter (any more).
     */
    async retryDead(id: number, now: Date): Promise<OutboxRow | undefined> {
      const [row] = await db
        .update(outbox)
        .set({ state: "pending", attempts: 0, availableAt: now, deadAt: null })
        .where(and(eq(outbox.id, id), inArray(outbox.state, ["dead", "failed"])))
        .returning();
      return row;
    },

    /** Drops a dead letter for good; returns the row, or undefined when it was not one (any more). */
    async dropDead(id: number): Promise<OutboxRow | undefined> {
      const [row] = await db
        .update(outbox)
        .set({ state: "dropped" })
        .where(and(eq(outbox.id, id), inArray(outbox.state, ["dead", "failed"])))
        .returning();
      return row;
    },

    /** Takes back every claimed row at once: only safe when no other process can hold claims (PGlite). */
    async releaseAllClaims(): Promise<number> {
      const rows = await db
        .update(outbox)
        .set({
          state: "pending",
          leaseUntil: null,
          claimId: null,
          lastError: `${CLAIM_LOST_PREFIX}released at start`,
        })
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
