/**
 * A canary from start to end: the live comparison of the two arms, promote / roll back, and the
 * champion / challenger overview. The deploy calls themselves are made by the call worker.
 */
import { describePrincipals } from "../access/index.js";
import type { Db } from "../db/index.js";
import { createModelRepository } from "../models/index.js";
import { deployPayload } from "./approvals.js";
import { type CallWorker, createCallWorker } from "./calls.js";
import { type CanaryComparison, compareArms } from "./canary.js";
import {
  candidateThread,
  championOf,
  type RetrainingDeps,
  type RetrainVia,
  record,
  retrainingOf,
} from "./deps.js";
import { RetrainingError } from "./errors.js";
import type { Candidate } from "./model.js";
import { createRetrainingRepository } from "./repository.js";

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

/** The rollout use cases (and the call worker behind them). */
export function createRolloutService(deps: RetrainingDeps, worker: CallWorker = createCallWorker(deps)) {
  const { db, clock, notifier } = deps;

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

  /**
   * Why a promoted candidate cannot be rolled back now (null: it can): it must still be the
   * champion, have a previous champion to go back to, and no other canary may be under way.
   */
  async function refuseRollbackAfterPromotion(tx: Db, c: Candidate): Promise<string | null> {
    const target = `${c.model}@${c.version}`;
    if (!c.championVersion) return `${target} had no previous champion to go back to; nothing was changed.`;
    const champion = await championOf(tx, c.model);
    if (champion !== c.version)
      return `${target} is no longer the champion (${champion ?? "none"} is); nothing was changed.`;
    const running = await createRetrainingRepository(tx).canaryOf(c.model);
    if (running)
      return `${c.model}@${running.version} is in canary now; finish it before rolling back ${target}.`;
    return null;
  }

  return {
    runDueCalls: worker.runDueCalls,
    idle: worker.idle,

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
        const afterPromotion = req.action === "rollback" && locked.state === "promoted";
        if (afterPromotion) {
          const refusal = await refuseRollbackAfterPromotion(tx, locked);
          if (refusal) {
            await tell(refusal);
            return { outcome: "unchanged", message: refusal };
          }
        } else if (locked.state !== "canary") {
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
            ...(afterPromotion ? { after_promotion: true } : {}),
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
              : `Rolling back ${target}; ${c.championVersion ?? "the champion"} takes all traffic${afterPromotion ? " and is the champion again" : ""}.`,
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

/** The rollout service. */
export type RolloutService = ReturnType<typeof createRolloutService>;
