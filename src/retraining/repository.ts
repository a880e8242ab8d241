import { and, asc, desc, eq, inArray, lte, or, sql } from "drizzle-orm";
import { resultRows } from "../db/client.js";
import type { Db } from "../db/index.js";
import { adapterCalls, approvals, candidates, retrainRequests } from "../db/schema/index.js";
import type { ArmStats } from "./canary.js";
import { type AdapterCall, CANARY_STATES, type Candidate, type RetrainRequest } from "./model.js";

/** A label or prediction that reads as a number (regression). */
const NUMERIC_TEXT = "^\\s*-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?\\s*$";

/** The only code touching the retraining tables. Pass a transaction to combine writes. */
export function createRetrainingRepository(db: Db) {
  return {
    /** Inserts a request unless one is active for its dedupe key; undefined when one was. */
    async insertRequest(values: typeof retrainRequests.$inferInsert): Promise<RetrainRequest | undefined> {
      const [row] = await db
        .insert(retrainRequests)
        .values(values)
        .onConflictDoNothing({
          target: retrainRequests.dedupeKey,
          where: sql`state in ('pending', 'triggered')`,
        })
        .returning();
      return row;
    },
    async activeRequest(dedupeKey: string): Promise<RetrainRequest | undefined> {
      const [row] = await db
        .select()
        .from(retrainRequests)
        .where(
          and(
            eq(retrainRequests.dedupeKey, dedupeKey),
            inArray(retrainRequests.state, ["pending", "triggered"]),
          ),
        );
      return row;
    },
    async request(id: number, lock = false): Promise<RetrainRequest | undefined> {
      const q = db.select().from(retrainRequests).where(eq(retrainRequests.id, id));
      const [row] = lock ? await q.for("update") : await q;
      return row;
    },
    async updateRequest(
      id: number,
      patch: Partial<typeof retrainRequests.$inferInsert>,
    ): Promise<RetrainRequest> {
      const [row] = await db.update(retrainRequests).set(patch).where(eq(retrainRequests.id, id)).returning();
      if (!row) throw new Error(`retrain request ${id} vanished during an update`);
      return row;
    },
    /** Adds a callback token hash to a request (each pipeline attempt gets its own token). */
    async addCallbackHash(id: number, hash: string, expiresAt: Date): Promise<void> {
      await db
        .update(retrainRequests)
        .set({
          callbackTokenHash: sql`trim(coalesce(${retrainRequests.callbackTokenHash}, '') || ' ' || ${hash})`,
          callbackExpiresAt: expiresAt,
        })
        .where(eq(retrainRequests.id, id));
    },
    /** The unfinished request of `model` a callback token belongs to, if it is still valid. */
    async requestByCallbackHash(model: string, hash: string, now: Date): Promise<RetrainRequest | undefined> {
      const [row] = await db
        .select()
        .from(retrainRequests)
        .where(
          and(
            eq(retrainRequests.model, model),
            inArray(retrainRequests.state, ["pending", "triggered"]),
            sql`${hash} = any(string_to_array(${retrainRequests.callbackTokenHash}, ' '))`,
            sql`${retrainRequests.callbackExpiresAt} > ${now.toISOString()}::timestamptz`,
          ),
        );
      return row;
    },

    async insertCandidate(values: typeof candidates.$inferInsert): Promise<Candidate | undefined> {
      const [row] = await db.insert(candidates).values(values).onConflictDoNothing().returning();
      return row;
    },
    async candidate(id: number, lock = false): Promise<Candidate | undefined> {
      const q = db.select().from(candidates).where(eq(candidates.id, id));
      const [row] = lock ? await q.for("update") : await q;
      return row;
    },
    async candidateByVersion(model: string, version: string): Promise<Candidate | undefined> {
      const [row] = await db
        .select()
        .from(candidates)
        .where(and(eq(candidates.model, model), eq(candidates.version, version)));
      return row;
    },
    async updateCandidate(id: number, patch: Partial<typeof candidates.$inferInsert>): Promise<Candidate> {
      const [row] = await db.update(candidates).set(patch).where(eq(candidates.id, id)).returning();
      if (!row) throw new Error(`candidate ${id} vanished during an update`);
      return row;
    },
    /** The candidate of `model` in canary (or on its way in or out), if any. */
    async canaryOf(model: string): Promise<Candidate | undefined> {
      const [row] = await db
        .select()
        .from(candidates)
        .where(and(eq(candidates.model, model), inArray(candidates.state, [...CANARY_STATES])));
      return row;
    },
    /** Candidates of a model, newest first. */
    async candidatesOf(model: string, limit = 10): Promise<Candidate[]> {
      return db
        .select()
        .from(candidates)
        .where(eq(candidates.model, model))
        .orderBy(desc(candidates.id))
        .limit(limit);
    },
    /** Undecided candidates past their expiry, locked, skipping those another replica holds. */
    async dueExpiry(now: Date, limit: number): Promise<Candidate[]> {
      return db
        .select()
        .from(candidates)
        .where(and(eq(candidates.state, "pending_approval"), lte(candidates.expiresAt, now)))
        .orderBy(asc(candidates.id))
        .limit(limit)
        .for("update", { skipLocked: true });
    },
    /** Candidates in canary (every model). */
    async inCanary(): Promise<Candidate[]> {
      return db.select().from(candidates).where(eq(candidates.state, "canary")).orderBy(asc(candidates.id));
    },

    /** Records a decision; false when this person already decided on this candidate. */
    async addDecision(values: typeof approvals.$inferInsert): Promise<boolean> {
      const rows = await db
        .insert(approvals)
        .values(values)
        .onConflictDoNothing()
        .returning({ id: approvals.id });
      return rows.length > 0;
    },
    async decisions(candidateId: number) {
      return db
        .select()
        .from(approvals)
        .where(eq(approvals.candidateId, candidateId))
        .orderBy(asc(approvals.id));
    },

    async enqueueCall(values: typeof adapterCalls.$inferInsert): Promise<AdapterCall> {
      const [row] = await db.insert(adapterCalls).values(values).returning();
      if (!row) throw new Error("adapter call insert returned no row");
      return row;
    },
    /**
     * Claims due calls: pending ones whose time has come and `calling` ones whose lease ran out
     * (their caller died). The claim bumps `attempts` and sets a lease longer than the call's
     * timeout, so no two replicas make the same call at once.
     */
    async claimDue(now: Date, leaseMs: number, limit: number): Promise<AdapterCall[]> {
      const rows = await db.execute(sql`
        update ${adapterCalls} set state = 'calling', attempts = attempts + 1,
          lease_until = ${new Date(now.getTime() + leaseMs).toISOString()}::timestamptz
        where id in (
          select id from ${adapterCalls}
          where kind <> 'pager'
            and ((state = 'pending' and available_at <= ${now.toISOString()}::timestamptz)
             or (state = 'calling' and lease_until <= ${now.toISOString()}::timestamptz))
          order by id limit ${limit} for update skip locked)
        returning id`);
      const ids = resultRows<{ id: number | string }>(rows).map((r) => Number(r.id));
      if (ids.length === 0) return [];
      return db
        .select()
        .from(adapterCalls)
        .where(inArray(adapterCalls.id, ids))
        .orderBy(asc(adapterCalls.id));
    },
    /** Whether a registry champion check of `model` is queued or running. */
    async openRegistryCheck(model: string): Promise<boolean> {
      const rows = await db
        .select({ id: adapterCalls.id })
        .from(adapterCalls)
        .where(
          and(
            eq(adapterCalls.model, model),
            eq(adapterCalls.kind, "registry"),
            inArray(adapterCalls.state, ["pending", "calling"]),
            sql`${adapterCalls.payload} ->> 'op' = 'check'`,
          ),
        )
        .limit(1);
      return rows.length > 0;
    },
    async call(id: number, lock = false): Promise<AdapterCall | undefined> {
      const q = db.select().from(adapterCalls).where(eq(adapterCalls.id, id));
      const [row] = lock ? await q.for("update") : await q;
      return row;
    },
    async updateCall(id: number, patch: Partial<typeof adapterCalls.$inferInsert>): Promise<void> {
      await db.update(adapterCalls).set(patch).where(eq(adapterCalls.id, id));
    },
    /** Calls of a request or candidate, oldest first. */
    async callsOf(ref: { retrainRequestId?: number; candidateId?: number }): Promise<AdapterCall[]> {
      return db
        .select()
        .from(adapterCalls)
        .where(
          or(
            ref.retrainRequestId ? eq(adapterCalls.retrainRequestId, ref.retrainRequestId) : undefined,
            ref.candidateId ? eq(adapterCalls.candidateId, ref.candidateId) : undefined,
          ),
        )
        .orderBy(asc(adapterCalls.id));
    },

    /**
     * Reduces the live predictions of two versions since `since` to what the comparison needs, in
     * one GROUP BY: counts, confidence mean and variance, low-confidence count, labelled count,
     * errors (label ≠ prediction) and, for numeric labels, absolute-error mean and variance.
     */
    async arms(modelId: number, since: Date, versions: string[], threshold: number): Promise<ArmStats[]> {
      const num = NUMERIC_TEXT;
      const rows = await db.execute(sql`
        select model_version as version,
          count(*)::int as n,
          count(confidence)::int as n_conf,
          coalesce(avg(confidence), 0)::float8 as conf_mean,
          coalesce(var_samp(confidence), 0)::float8 as conf_var,
          count(*) filter (where confidence < ${threshold})::int as low_conf,
          count(label)::int as labelled,
          count(*) filter (where label is not null and label <> prediction)::int as errors,
          count(*) filter (where label ~ ${num} and prediction ~ ${num})::int as n_abs,
          coalesce(avg(abs(label::float8 - prediction::float8)) filter (where label ~ ${num} and prediction ~ ${num}), 0)::float8 as abs_mean,
          coalesce(var_samp(abs(label::float8 - prediction::float8)) filter (where label ~ ${num} and prediction ~ ${num}), 0)::float8 as abs_var
        from predictions
        where model_id = ${modelId} and ts >= ${since.toISOString()}::timestamptz
          and model_version in (${sql.join(
            versions.map((v) => sql`${v}`),
            sql`, `,
          )})
        group by model_version`);
      return resultRows<Record<string, number | string>>(rows).map((r) => ({
        version: String(r.version),
        n: Number(r.n),
        confidence: { n: Number(r.n_conf), mean: Number(r.conf_mean), variance: Number(r.conf_var) },
        lowConfidence: Number(r.low_conf),
        labelled: Number(r.labelled),
        errors: Number(r.errors),
        absError:
          Number(r.n_abs) > 0
            ? { n: Number(r.n_abs), mean: Number(r.abs_mean), variance: Number(r.abs_var) }
            : null,
      }));
    },
  };
}

/** The retraining tables' operations. */
export type RetrainingRepository = ReturnType<typeof createRetrainingRepository>;
