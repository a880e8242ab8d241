import { describePrincipals } from "../access/index.js";
import type { Db } from "../db/index.js";
import {
  candidateThread,
  cardOf,
  type RetrainingDeps,
  type RetrainVia,
  record,
  retrainingOf,
} from "./deps.js";
import { RetrainingError } from "./errors.js";
import { approvalStatus, type Candidate } from "./model.js";
import { createRetrainingRepository } from "./repository.js";

/** What came of a decision on a candidate. */
export interface DecisionOutcome {
  outcome: "recorded" | "approved" | "rejected" | "refused" | "unchanged";
  message: string;
}

/** Approve, reject and expiry of candidates. */
export function createApprovalService(deps: RetrainingDeps) {
  const { db, clock, notifier } = deps;

  return {
    /**
     * Approve or reject. The permission is checked first (a refusal is told, logged in the
     * timeline and the audit, and changes nothing); the candidate is re-read under a row lock.
     * Approval needs `approvals_required` distinct approvers, one of them not the requester; the
     * last approval queues the canary deploy call. One reject ends it.
     */
    async decide(req: {
      candidateId: number;
      decision: "approve" | "reject";
      actor: string;
      reason?: string | undefined;
      via: RetrainVia;
      replyTo?: { channel: string; user: string } | undefined;
    }): Promise<DecisionOutcome> {
      const current = await createRetrainingRepository(db).candidate(req.candidateId);
      if (!current) throw new RetrainingError("unknown_candidate", "That candidate no longer exists.");
      const target = `${current.model}@${current.version}`;
      const access = await deps.access.can(req.actor, "approve", current.model);
      const result = await db.transaction(async (tx): Promise<DecisionOutcome> => {
        const repo = createRetrainingRepository(tx);
        const tell = async (message: string) =>
          req.replyTo ? await notifier.tell(tx, req.replyTo, message) : null;
        if (!access.allowed) {
          const message = `You may not ${req.decision} ${target}: that takes ${describePrincipals(deps.config, access.allowedPrincipals, current.model)}. Nothing was changed.`;
          const outboxId = await tell(message);
          await record(deps, tx, {
            incidentId: current.incidentId,
            kind: "refused",
            actor: req.actor,
            via: req.via,
            target,
            outcome: "refused",
            detail: { action: req.decision, allowed: access.allowedPrincipals },
            outboxId,
          });
          return { outcome: "refused", message };
        }
        const candidate = (await repo.candidate(current.id, true)) as Candidate;
        const now = clock.now();
        if (candidate.state === "pending_approval" && candidate.expiresAt <= now) {
          await expireOne(tx, candidate);
          const message = `${target} expired before your decision; nothing was deployed.`;
          await tell(message);
          return { outcome: "unchanged", message };
        }
        if (candidate.state !== "pending_approval") {
          const message = `${target} is no longer waiting for a decision (it is ${candidate.state.replace(/_/g, " ")}).`;
          await tell(message);
          return { outcome: "unchanged", message };
        }
        const snapshot = candidate.rules as { passes?: boolean };
        if (req.decision === "approve" && !snapshot.passes) {
          const message = `${target} does not clear the retraining rules, so it cannot be approved; reject it or report a better candidate.`;
          await tell(message);
          return { outcome: "unchanged", message };
        }
        const fresh = await repo.addDecision({
          candidateId: candidate.id,
          userId: req.actor,
          decision: req.decision,
          reason: req.reason ?? null,
          at: now,
        });
        if (!fresh) {
          const message = `You already decided on ${target}.`;
          await tell(message);
          return { outcome: "unchanged", message };
        }
        const decisions = await repo.decisions(candidate.id);
        const status = approvalStatus(decisions, candidate.approvalsRequired, candidate.requestedBy);
        const thread = candidateThread(candidate);
        if (req.decision === "reject") {
          const updated = await repo.updateCandidate(candidate.id, {
            state: "rejected",
            decidedBy: req.actor,
            decisionNote: req.reason ?? null,
            updatedAt: now,
          });
          const noteId = await notifier.reply(tx, thread, {
            kind: "rejected",
            candidate: updated,
            actor: req.actor,
            reason: req.reason ?? "",
          });
          await notifier.updateCard(tx, await cardOf(deps, tx, updated));
          await record(deps, tx, {
            incidentId: candidate.incidentId,
            kind: "candidate_rejected",
            actor: req.actor,
            via: req.via,
            target,
            detail: { reason: req.reason ?? null },
            outboxId: noteId,
          });
          return { outcome: "rejected", message: `You rejected ${target}.` };
        }
        if (!status.satisfied) {
          const noteId = await notifier.reply(tx, thread, {
            kind: "approved",
            candidate,
            actor: req.actor,
            status,
          });
          await notifier.updateCard(tx, await cardOf(deps, tx, candidate));
          await record(deps, tx, {
            incidentId: candidate.incidentId,
            kind: "candidate_approval",
            actor: req.actor,
            via: req.via,
            target,
            detail: { approvers: status.approvers, missing: status.missing },
            outboxId: noteId,
          });
          const message = `Your approval of ${target} is recorded; it still needs ${status.missing}.`;
          await tell(message);
          return { outcome: "recorded", message };
        }
        const running = await repo.canaryOf(candidate.model);
        if (running) {
          const message = `${candidate.model}@${running.version} is in canary already; promote or roll it back first. Your approval is recorded.`;
          await tell(message);
          await notifier.updateCard(tx, await cardOf(deps, tx, candidate));
          return { outcome: "recorded", message };
        }
        const rules = retrainingOf(deps.config, candidate.model);
        const share =
          (candidate.rules as { canary?: { share?: number } }).canary?.share ?? rules.canary.share;
        const updated = await repo.updateCandidate(candidate.id, {
          state: "canary_starting",
          decidedBy: req.actor,
          canaryShare: share,
          updatedAt: now,
        });
        await repo.enqueueCall({
          kind: "canary",
          model: candidate.model,
          candidateId: candidate.id,
          payload: deployPayload(updated, "canary", share),
          state: "pending",
          availableAt: now,
          createdAt: now,
        });
        const noteId = await notifier.reply(tx, thread, {
          kind: "approved",
          candidate: updated,
          actor: req.actor,
          status,
        });
        await notifier.updateCard(tx, await cardOf(deps, tx, updated));
        await record(deps, tx, {
          incidentId: candidate.incidentId,
          kind: "candidate_approved",
          actor: req.actor,
          via: req.via,
          target,
          detail: { approvers: status.approvers, share },
          outboxId: noteId,
        });
        return {
          outcome: "approved",
          message: `You approved ${target}; starting a canary at ${Math.round(share * 100)}% of traffic.`,
        };
      });
      notifier.wake();
      if (result.outcome === "approved") deps.kick();
      return result;
    },

    /**
     * Before the reject dialog opens: a person without `approve` is refused (told and logged) and
     * a candidate no longer waiting is told; otherwise nothing is written yet.
     */
    async precheck(req: {
      candidateId: number;
      actor: string;
      via: RetrainVia;
      replyTo: { channel: string; user: string };
    }): Promise<{ allowed: boolean }> {
      const c = await createRetrainingRepository(db).candidate(req.candidateId);
      if (!c) throw new RetrainingError("unknown_candidate", "That candidate no longer exists.");
      const target = `${c.model}@${c.version}`;
      const access = await deps.access.can(req.actor, "approve", c.model);
      if (access.allowed && c.state === "pending_approval") return { allowed: true };
      await db.transaction(async (tx) => {
        if (access.allowed) {
          await notifier.tell(
            tx,
            req.replyTo,
            `${target} is no longer waiting for a decision (it is ${c.state.replace(/_/g, " ")}).`,
          );
          return;
        }
        const outboxId = await notifier.tell(
          tx,
          req.replyTo,
          `You may not reject ${target}: that takes ${describePrincipals(deps.config, access.allowedPrincipals, c.model)}. Nothing was changed.`,
        );
        await record(deps, tx, {
          incidentId: c.incidentId,
          kind: "refused",
          actor: req.actor,
          via: req.via,
          target,
          outcome: "refused",
          detail: { action: "reject", allowed: access.allowedPrincipals },
          outboxId,
        });
      });
      notifier.wake();
      return { allowed: false };
    },

    /** Tells one person something (an ephemeral through the outbox). */
    async tell(to: { channel: string; user: string }, text: string): Promise<void> {
      await db.transaction((tx) => notifier.tell(tx, to, text));
      notifier.wake();
    },

    /** Marks undecided candidates past their expiry as expired and updates their cards. */
    async expireDue(): Promise<number> {
      const n = await db.transaction(async (tx) => {
        const due = await createRetrainingRepository(tx).dueExpiry(clock.now(), 50);
        for (const c of due) await expireOne(tx, c);
        return due.length;
      });
      if (n) notifier.wake();
      return n;
    },
  };

  async function expireOne(tx: Db, c: Candidate): Promise<void> {
    const now = clock.now();
    const updated = await createRetrainingRepository(tx).updateCandidate(c.id, {
      state: "expired",
      updatedAt: now,
    });
    const noteId = await notifier.reply(tx, candidateThread(updated), {
      kind: "expired",
      candidate: updated,
    });
    await notifier.updateCard(tx, await cardOf(deps, tx, updated));
    await record(deps, tx, {
      incidentId: c.incidentId,
      kind: "candidate_expired",
      actor: "system",
      via: "schedule",
      target: `${c.model}@${c.version}`,
      detail: { expiresAt: c.expiresAt.toISOString() },
      outboxId: noteId,
    });
  }
}

/** What a deploy adapter is told. */
export function deployPayload(
  c: Candidate,
  action: "canary" | "promote" | "rollback",
  challengerShare: number,
): Record<string, unknown> {
  return {
    action,
    model: c.model,
    candidate_id: c.id,
    champion_version: c.championVersion,
    challenger_version: c.version,
    artifact_uri: c.artifactUri,
    challenger_share: challengerShare,
  };
}
