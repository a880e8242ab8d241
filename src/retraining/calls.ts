/**
 * The adapter-call worker: pipeline and deploy calls are rows written with the change that needs
 * them; this worker claims due rows with a lease, makes each call outside any transaction, then
 * records the outcome and applies its effect in one transaction (or schedules a retry with backoff).
 */
import { randomBytes } from "node:crypto";
import type { Db } from "../db/index.js";
import { createModelRepository } from "../models/index.js";
import { candidateThread, cardOf, type RetrainingDeps, record } from "./deps.js";
import type { AdapterCall } from "./model.js";
import { formatRequestRef } from "./model.js";
import { callBudgetMs, performCall } from "./perform.js";
import type { AliasMoved } from "./ports.js";
import { registryDone, registryFailed } from "./registry-effects.js";
import { createRetrainingRepository } from "./repository.js";
import { hashCallbackToken } from "./requests.js";

/** How long a pipeline's callback token stays valid. */
export const CALLBACK_TOKEN_TTL_MS = 7 * 24 * 3_600_000;

/** Backoff between attempts of a failed call: 2 s doubling to 5 min. */
export function callRetryDelayMs(attempts: number): number {
  return Math.min(300_000, 2_000 * 2 ** Math.max(0, attempts - 1));
}

/** Makes due adapter calls and applies what they did. */
export function createCallWorker(deps: RetrainingDeps) {
  const { db, clock, notifier, logger } = deps;
  const inflight = new Set<Promise<void>>();

  /** The lease of a claim: longer than any adapter's timeout, so a live call is never taken back. */
  function leaseMs(): number {
    let max = 10_000;
    for (const m of deps.config.models) {
      const r = m.retraining;
      if (!r) continue;
      max = Math.max(max, callBudgetMs(r));
    }
    return max + 30_000;
  }

  async function execute(call: AdapterCall): Promise<void> {
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
    const outcome = await performCall(deps, call, secrets);
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
          // Steps this attempt finished (an alias already moved), so the next attempt skips them.
          ...(outcome.progress ? { result: { progress: outcome.progress } } : {}),
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
    if (call.kind === "registry") return registryDone(deps, tx, call, result);
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
    const registry = aliasMovedOf(result);
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
        ...(registry ? { registry } : {}),
      });
      await notifier.updateCard(tx, await cardOf(deps, tx, updated));
      await record(deps, tx, {
        incidentId: c.incidentId,
        kind: "promoted",
        actor,
        via: "schedule",
        target,
        detail: { previousChampion: c.championVersion, ...(registry ? { registry } : {}) },
        outboxId: id,
      });
    } else if (call.kind === "rollback" && c.state === "rolling_back") {
      // A promoted version rolled back: its previous champion is the champion again.
      if (call.payload.after_promotion === true && c.championVersion) {
        const models = createModelRepository(tx);
        const model = await models.bySlug(c.model);
        if (model) await models.promote(model.id, c.championVersion, now);
      }
      const updated = await repo.updateCandidate(c.id, {
        state: "rolled_back",
        canaryShare: 0,
        updatedAt: now,
      });
      const id = await notifier.reply(tx, candidateThread(updated), {
        kind: "rolled_back",
        candidate: updated,
        actor,
        ...(registry ? { registry } : {}),
      });
      await notifier.updateCard(tx, await cardOf(deps, tx, updated));
      await record(deps, tx, {
        incidentId: c.incidentId,
        kind: "rolled_back",
        actor,
        via: "schedule",
        target,
        detail: { champion: c.championVersion, ...(registry ? { registry } : {}) },
        outboxId: id,
      });
    }
  }

  async function onFailed(tx: Db, call: AdapterCall, error: string): Promise<void> {
    if (call.kind === "registry") return registryFailed(deps, tx, call, error);
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
    // A failed canary start ends the candidate; a failed promote or roll back leaves the canary as
    // it was (a roll back after promotion leaves the promotion).
    const back =
      call.kind === "canary" ? "failed" : call.payload.after_promotion === true ? "promoted" : "canary";
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
  };
}

/** The alias a promote or roll back moved, from the call's result (none without a registry). */
function aliasMovedOf(result: Record<string, unknown>): AliasMoved | undefined {
  const r = result.registry as { alias?: string; modelName?: string; to?: string } | undefined;
  return r?.alias && r.modelName && r.to ? { alias: r.alias, modelName: r.modelName, to: r.to } : undefined;
}

/** The adapter-call worker. */
export type CallWorker = ReturnType<typeof createCallWorker>;
