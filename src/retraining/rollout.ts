/**
 * From approval to the end of a canary: the adapter-call worker (pipeline and deploy calls made
 * outside transactions, recorded before and after, retried with backoff), the live comparison of
 * the two arms, and promote / roll back.
 */
import { randomBytes } from "node:crypto";
import { describePrincipals } from "../access/index.js";
import type { Db } from "../db/index.js";
import { createModelRepository } from "../models/index.js";
import type { AdapterConfig } from "./adapters.js";
import { type CanaryComparison, compareArms } from "./canary.js";
import {
  candidateThread,
  cardOf,
  type RetrainingDeps,
  type RetrainVia,
  record,
  retrainingOf,
} from "./deps.js";
import { RetrainingError } from "./errors.js";
import type { AdapterCall, Candidate } from "./model.js";
import { formatRequestRef } from "./model.js";
import { createRetrainingRepository } from "./repository.js";
import { deployPayload, hashCallbackToken } from "./service.js";

/** How long a pipeline's callback token stays valid. */
export const CALLBACK_TOKEN_TTL_MS = 7 * 24 * 3_600_000;

/** Backoff between attempts of a failed call: 2 s doubling to 5 min. */
export function callRetryDelayMs(attempts: number): number {
  return Math.min(300_000, 2_000 * 2 ** Math.max(0, attempts - 1));
}

/** A model's champion, challenger and canary, for `/mlops models`. */
export interface ModelRollout {
  slug: string;
  name: string;
  champion: string | null;
  /** The newest candidate that is neither promoted nor finished badly, with its state. */
  challenger: { version: string; state: Candidate["state"]; share: number | null } | null;
  retraining: boolean;
}

/** What came of promote / roll back. */
export interface FinishOutcome {
  outcome: "started" | "refused" | "unchanged";
  message: string;
}

/** The rollout use cases. */
export function createRolloutService(deps: RetrainingDeps) {
  const { db, clock, notifier, logger } = deps;
  const inflight = new Set<Promise<void>>();

  function adapterFor(call: AdapterCall): AdapterConfig | undefined {
    const rules = retrainingOf(deps.config, call.model);
    return call.kind === "pipeline" ? rules.pipeline : rules.deploy;
  }

  /** The lease of a claim: longer than any adapter's timeout, so a live call is never taken back. */
  function leaseMs(): number {
    let max = 10_000;
    for (const m of deps.config.models) {
      const r = m.retraining;
      if (!r) continue;
      max = Math.max(max, r.pipeline.timeout, r.deploy?.timeout ?? 0);
    }
    return max + 30_000;
  }

  async function execute(call: AdapterCall): Promise<void> {
    const adapter = adapterFor(call);
    const secrets: Record<string, string> = {};
    if (call.kind === "pipeline" && call.retrainRequestId) {
      // Recorded before the call: each attempt gets its own one-time token for the report.
      const token = `mlrt_${randomBytes(24).toString("base64url")}`;
      await createRetrainingRepository(db).addCallbackHash(
        call.retrainRequestId,
        hashCallbackToken(token),
        new Date(clock.now().getTime() + CALLBACK_TOKEN_TTL_MS),
      );
      secrets.callback_token = token;
    }
    const outcome = adapter
      ? await deps.adapters.call(adapter, {
          id: call.id,
          event: eventOf(call),
          payload: call.payload,
          secrets,
        })
      : { ok: true as const, result: { skipped: "no deploy adapter configured" } };
    if (!outcome.ok)
      logger.warn({ call: call.id, kind: call.kind, err: outcome.error }, "adapter call failed");
    await db.transaction(async (tx) => {
      const repo = createRetrainingRepository(tx);
      const locked = await repo.call(call.id, true);
      if (locked?.state !== "calling") return;
      const now = clock.now();
      if (outcome.ok) {
        await repo.updateCall(call.id, {
          state: "done",
          result: outcome.result,
          doneAt: now,
          leaseUntil: null,
        });
        await onDone(tx, locked, outcome.result);
      } else if (outcome.retry && locked.attempts < locked.maxAttempts) {
        await repo.updateCall(call.id, {
          state: "pending",
          lastError: outcome.error.slice(0, 1000),
          availableAt: new Date(now.getTime() + callRetryDelayMs(locked.attempts)),
          leaseUntil: null,
        });
      } else {
        await repo.updateCall(call.id, {
          state: "failed",
          lastError: outcome.error.slice(0, 1000),
          doneAt: now,
        });
        await onFailed(tx, locked, outcome.error);
      }
    });
    notifier.wake();
  }

  async function onDone(tx: Db, call: AdapterCall, result: Record<string, unknown>): Promise<void> {
    const repo = createRetrainingRepository(tx);
    const now = clock.now();
    if (call.kind === "pipeline" && call.retrainRequestId) {
      const request = await repo.request(call.retrainRequestId, true);
      if (request?.state !== "pending") return;
      const runUrl = typeof result.run_url === "string" ? result.run_url : null;
      const updated = await repo.updateRequest(request.id, { state: "triggered", runUrl, updatedAt: now });
      const id = await notifier.reply(tx, threadOfRequest(updated), {
        kind: "pipeline_started",
        request: updated,
        runUrl,
      });
      await record(deps, tx, {
        incidentId: request.incidentId,
        kind: "pipeline_started",
        actor: "system",
        via: "schedule",
        target: formatRequestRef(request.id),
        detail: { runUrl, attempts: call.attempts },
        outboxId: id,
      });
      return;
    }
    if (!call.candidateId) return;
    const c = await repo.candidate(call.candidateId, true);
    if (!c) return;
    const target = `${c.model}@${c.version}`;
    const actor = String(call.payload.actor ?? "system");
    if (call.kind === "canary" && c.state === "canary_starting") {
      const updated = await repo.updateCandidate(c.id, {
        state: "canary",
        canaryStartedAt: now,
        updatedAt: now,
      });
      const id = await notifier.reply(tx, candidateThread(updated), {
        kind: "canary_started",
        candidate: updated,
      });
      await notifier.updateCard(tx, await cardOf(deps, tx, updated));
      await record(deps, tx, {
        incidentId: c.incidentId,
        kind: "canary_started",
        actor: "system",
        via: "schedule",
        target,
        detail: { share: c.canaryShare },
        outboxId: id,
      });
    } else if (call.kind === "promote" && c.state === "promoting") {
      const models = createModelRepository(tx);
      const model = await models.bySlug(c.model);
      if (model) await models.promote(model.id, c.version, now);
      const updated = await repo.updateCandidate(c.id, { state: "promoted", canaryShare: 1, updatedAt: now });
      const id = await notifier.reply(tx, candidateThread(updated), {
        kind: "promoted",
        candidate: updated,
        actor,
      });
      await notifier.updateCard(tx, await cardOf(deps, tx, updated));
      await record(deps, tx, {
        incidentId: c.incidentId,
        kind: "promoted",
        actor,
        via: "schedule",
        target,
        detail: { previousChampion: c.championVersion },
        outboxId: id,
      });
    } else if (call.kind === "rollback" && c.state === "rolling_back") {
      const updated = await repo.updateCandidate(c.id, {
        state: "rolled_back",
        canaryShare: 0,
        updatedAt: now,
      });
      const id = await notifier.reply(tx, candidateThread(updated), {
        kind: "rolled_back",
        candidate: updated,
        actor,
      });
      await notifier.updateCard(tx, await cardOf(deps, tx, updated));
      await record(deps, tx, {
        incidentId: c.incidentId,
        kind: "rolled_back",
        actor,
        via: "schedule",
        target,
        detail: { champion: c.championVersion },
        outboxId: id,
      });
    }
  }

  async function onFailed(tx: Db, call: AdapterCall, error: string): Promise<void> {
    const repo = createRetrainingRepository(tx);
    const now = clock.now();
    if (call.kind === "pipeline" && call.retrainRequestId) {
      const request = await repo.request(call.retrainRequestId, true);
      if (request?.state !== "pending") return;
      const updated = await repo.updateRequest(request.id, {
        state: "failed",
        updatedAt: now,
        callbackTokenHash: null,
      });
      const id = await notifier.reply(tx, threadOfRequest(updated), {
        kind: "pipeline_failed",
        request: updated,
        error,
      });
      await record(deps, tx, {
        incidentId: request.incidentId,
        kind: "pipeline_failed",
        actor: "system",
        via: "schedule",
        target: formatRequestRef(request.id),
        outcome: "error",
        detail: { error: error.slice(0, 300), attempts: call.attempts },
        outboxId: id,
      });
      return;
    }
    if (!call.candidateId) return;
    const c = await repo.candidate(call.candidateId, true);
    if (!c) return;
    // A failed canary start ends the candidate; a failed promote or roll back leaves the canary as it was.
    const back = call.kind === "canary" ? "failed" : "canary";
    const updated = await repo.updateCandidate(c.id, { state: back, updatedAt: now });
    const action = call.kind as "canary" | "promote" | "rollback";
    const id = await notifier.reply(tx, candidateThread(updated), {
      kind: "deploy_failed",
      candidate: updated,
      action,
      error,
    });
    await notifier.updateCard(tx, await cardOf(deps, tx, updated));
    await record(deps, tx, {
      incidentId: c.incidentId,
      kind: "deploy_failed",
      actor: "system",
      via: "schedule",
      target: `${c.model}@${c.version}`,
      outcome: "error",
      detail: { action, error: error.slice(0, 300) },
      outboxId: id,
    });
  }

  function threadOfRequest(r: { incidentId: number | null; threadOutboxId: number | null; model: string }) {
    // The thread's channel is the one the request's first post went to; the outbox knows it.
    return { channel: channelOfRequest(r), parentId: r.threadOutboxId };
  }

  function channelOfRequest(r: { model: string }): string {
    return (
      deps.config.models.find((m) => m.slug === r.model)?.alert_channel ?? deps.config.workspace.alert_channel
    );
  }

  /** Reads both arms since the canary started and compares them. */
  async function compare(c: Candidate): Promise<CanaryComparison> {
    const rules = retrainingOf(deps.config, c.model);
    const snap = (c.rules as { canary?: { minSamplePerArm?: number; alpha?: number } }).canary ?? {};
    const model = await createModelRepository(db).bySlug(c.model);
    const champion = c.championVersion ?? "";
    const arms =
      model && c.canaryStartedAt
        ? await createRetrainingRepository(db).arms(
            model.id,
            c.canaryStartedAt,
            [champion, c.version],
            model.confidenceThreshold,
          )
        : [];
    return compareArms(
      arms.find((a) => a.version === champion),
      arms.find((a) => a.version === c.version),
      {
        championVersion: champion,
        challengerVersion: c.version,
        minSamplePerArm: snap.minSamplePerArm ?? rules.canary.min_sample_per_arm,
        alpha: snap.alpha ?? rules.canary.alpha,
        regression: model?.task === "regression",
      },
    );
  }

  /** Stores a comparison and, when asked to (or the first time it has enough sample), posts it. */
  async function compareAndPost(
    c: Candidate,
    force: boolean,
    actor: string,
    via: RetrainVia,
  ): Promise<CanaryComparison> {
    const comparison = await compare(c);
    const posted = await db.transaction(async (tx) => {
      const repo = createRetrainingRepository(tx);
      const locked = await repo.candidate(c.id, true);
      if (locked?.state !== "canary") return false;
      const now = clock.now();
      const post = force || (comparison.enoughSample && !locked.comparisonPostedAt);
      await repo.updateCandidate(c.id, {
        comparison: comparison as unknown as Record<string, unknown>,
        comparedAt: now,
        ...(post ? { comparisonPostedAt: now } : {}),
      });
      if (!post) return false;
      const id = await notifier.postComparison(tx, candidateThread(locked), {
        candidate: locked,
        comparison,
        actions: true,
      });
      await record(deps, tx, {
        incidentId: locked.incidentId,
        kind: "canary_compared",
        actor,
        via,
        target: `${c.model}@${c.version}`,
        detail: {
          verdict: comparison.verdict,
          basis: comparison.basis,
          enoughSample: comparison.enoughSample,
        },
        outboxId: id,
      });
      return true;
    });
    if (posted) notifier.wake();
    return comparison;
  }

  return {
    /** Makes the due adapter calls (in parallel); resolves when they are recorded. */
    async runDueCalls(): Promise<number> {
      const calls = await createRetrainingRepository(db).claimDue(clock.now(), leaseMs(), 10);
      const runs = calls.map((call) =>
        execute(call).catch((err: unknown) =>
          logger.error({ err, call: call.id }, "could not record an adapter call"),
        ),
      );
      for (const p of runs) {
        inflight.add(p);
        void p.finally(() => inflight.delete(p));
      }
      await Promise.all(runs);
      return calls.length;
    },

    /** Waits for calls in flight (shutdown). */
    async idle(): Promise<void> {
      await Promise.allSettled([...inflight]);
    },

    /** Scheduled: compares every running canary; posts the first comparison with enough sample. */
    async checkCanaries(model?: string): Promise<number> {
      const running = (await createRetrainingRepository(db).inCanary()).filter(
        (c) => !model || c.model === model,
      );
      for (const c of running) await compareAndPost(c, false, "system", "schedule");
      return running.length;
    },

    /** `/mlops canary <model>`: compares now and posts the comparison in the thread. */
    async canaryNow(
      model: string,
      actor: string,
    ): Promise<{ candidate: Candidate; comparison: CanaryComparison } | null> {
      retrainingOf(deps.config, model);
      const c = await createRetrainingRepository(db).canaryOf(model);
      if (c?.state !== "canary") return null;
      return { candidate: c, comparison: await compareAndPost(c, true, actor, "command") };
    },

    /**
     * Promote or roll back a canary. Needs `approve`; promotion also needs enough sample on both
     * arms and no significant evidence against the challenger. The deploy call is queued with the
     * state change; the registry changes when the call succeeds.
     */
    async finish(req: {
      candidateId: number;
      action: "promote" | "rollback";
      actor: string;
      via: RetrainVia;
      replyTo?: { channel: string; user: string } | undefined;
    }): Promise<FinishOutcome> {
      const c = await createRetrainingRepository(db).candidate(req.candidateId);
      if (!c) throw new RetrainingError("unknown_candidate", "That candidate no longer exists.");
      const target = `${c.model}@${c.version}`;
      const verb = req.action === "promote" ? "promote" : "roll back";
      const access = await deps.access.can(req.actor, "approve", c.model);
      const comparison =
        req.action === "promote" && access.allowed && c.state === "canary" ? await compare(c) : null;
      const result = await db.transaction(async (tx): Promise<FinishOutcome> => {
        const repo = createRetrainingRepository(tx);
        const tell = async (message: string) =>
          req.replyTo ? await notifier.tell(tx, req.replyTo, message) : null;
        if (!access.allowed) {
          const message = `You may not ${verb} ${target}: that takes ${describePrincipals(deps.config, access.allowedPrincipals, c.model)}. Nothing was changed.`;
          const outboxId = await tell(message);
          await record(deps, tx, {
            incidentId: c.incidentId,
            kind: "refused",
            actor: req.actor,
            via: req.via,
            target,
            outcome: "refused",
            detail: { action: req.action, allowed: access.allowedPrincipals },
            outboxId,
          });
          return { outcome: "refused", message };
        }
        const locked = (await repo.candidate(c.id, true)) as Candidate;
        if (locked.state !== "canary") {
          const message = `${target} is not in canary (it is ${locked.state.replace(/_/g, " ")}); nothing was changed.`;
          await tell(message);
          return { outcome: "unchanged", message };
        }
        if (comparison && (!comparison.enoughSample || comparison.verdict === "challenger_worse")) {
          const message = !comparison.enoughSample
            ? `Not promoting ${target} yet: ${comparison.summary}`
            : `Not promoting ${target}: ${comparison.summary} Roll it back, or wait for more data.`;
          await tell(message);
          return { outcome: "unchanged", message };
        }
        const now = clock.now();
        await repo.updateCandidate(c.id, {
          state: req.action === "promote" ? "promoting" : "rolling_back",
          updatedAt: now,
          ...(comparison
            ? { comparison: comparison as unknown as Record<string, unknown>, comparedAt: now }
            : {}),
        });
        await repo.enqueueCall({
          kind: req.action,
          model: c.model,
          candidateId: c.id,
          payload: {
            ...deployPayload(locked, req.action, req.action === "promote" ? 1 : 0),
            actor: req.actor,
          },
          state: "pending",
          availableAt: now,
          createdAt: now,
        });
        await record(deps, tx, {
          incidentId: c.incidentId,
          kind: req.action === "promote" ? "promote_requested" : "rollback_requested",
          actor: req.actor,
          via: req.via,
          target,
          detail: comparison ? { verdict: comparison.verdict } : {},
        });
        return {
          outcome: "started",
          message:
            req.action === "promote"
              ? `Promoting ${target} to champion.`
              : `Rolling back ${target}; ${c.championVersion ?? "the champion"} takes all traffic.`,
        };
      });
      notifier.wake();
      if (result.outcome === "started") deps.kick();
      return result;
    },

    /** Champion, challenger and canary of every model, for `/mlops models`. */
    async overview(): Promise<ModelRollout[]> {
      const out: ModelRollout[] = [];
      const models = createModelRepository(db);
      const repo = createRetrainingRepository(db);
      for (const m of deps.config.models) {
        const row = await models.bySlug(m.slug);
        const champion = row ? ((await models.champion(row.id))?.version ?? null) : (m.champion ?? null);
        const latest = (await repo.candidatesOf(m.slug, 5)).find((c) =>
          ["pending_approval", "canary_starting", "canary", "promoting", "rolling_back"].includes(c.state),
        );
        out.push({
          slug: m.slug,
          name: m.name,
          champion,
          challenger: latest
            ? { version: latest.version, state: latest.state, share: latest.canaryShare }
            : null,
          retraining: Boolean(m.retraining),
        });
      }
      return out;
    },
  };
}

function eventOf(call: AdapterCall): string {
  return call.kind === "pipeline" ? "retrain.requested" : `deploy.${call.kind}`;
}

/** The rollout service. */
export type RolloutService = ReturnType<typeof createRolloutService>;
