import type { Db } from "../db/index.js";
import { type Attempt, auditAttempt, loadIncident, recordUnchanged, refuseAttempt } from "./attempts.js";
import { type IncidentDeps, snapshotOf, stakeholderChannelOf, updateEveryOf } from "./deps.js";
import { IncidentError, IncidentNotFoundError } from "./errors.js";
import {
  EVENT_KINDS,
  formatRef,
  type Incident,
  OWNER_PERMISSION,
  type OwnerChange,
  type StatusUpdate,
  type Via,
} from "./model.js";
import { createIncidentRepository } from "./repository.js";

/** Someone acts on who owns an incident, or posts its status. */
export interface OwnerRequest {
  incidentId: number;
  /** Slack user id. */
  actor: string;
  via: Via;
  /** Where to tell the person the outcome when it is not visible otherwise (buttons): an ephemeral. */
  replyTo?: { channel: string; user: string } | undefined;
}

/** What came of a take, assign or update; `message` is for the person who asked (Slack mrkdwn). */
export interface OwnerResult {
  outcome: "done" | "unchanged" | "refused";
  incident: Incident;
  message: string;
}

/**
 * The owner columns when `owner` takes over at `now`: the update rhythm starts afresh for them
 * (no reminder for severities without one).
 */
export function ownerPatch(deps: Pick<IncidentDeps, "config">, incident: Incident, owner: string, now: Date) {
  const every = updateEveryOf(deps.config, incident.severity);
  return { assignee: owner, updateDueAt: every === undefined ? null : new Date(now.getTime() + every) };
}

/**
 * Records a new owner in the caller's transaction: the `owner_changed` timeline row, with the thread
 * note saying who took it (not for an acknowledgement, whose own note says so). The caller has
 * already written `ownerPatch` and re-renders the card.
 */
export async function recordOwnerChange(
  deps: Pick<IncidentDeps, "notifier">,
  tx: Db,
  change: { incident: Incident; from: string | null; actor: string; via: Via; how: OwnerChange; at: Date },
): Promise<void> {
  const { incident, how } = change;
  const owner = incident.assignee as string;
  const outboxId =
    how === "acknowledged"
      ? null
      : await deps.notifier.reply(tx, incident, { kind: "owner", owner, actor: change.actor, how });
  await createIncidentRepository(tx).addEvent({
    incidentId: incident.id,
    at: change.at,
    kind: EVENT_KINDS.ownerChanged,
    actor: change.actor,
    via: change.via,
    detail: { from: change.from, to: owner, how },
    outboxId,
  });
}

/** Errors that write nothing: the request itself cannot be done. */
function resolvedError(incident: Incident, what: string): IncidentError {
  return new IncidentError(
    "incident_resolved",
    `${formatRef(incident.id)} is resolved; it cannot ${what} any more. Nothing was changed.`,
    409,
  );
}

/**
 * One owner per incident (the commander) and its status updates: *Take it*, `/mlops assign`,
 * `/mlops update` and the Update dialog. Whoever may acknowledge an incident may do these; a
 * refusal is written to the timeline and the audit log and changes nothing else. Each change is
 * made under the incident's row lock with its timeline row and its Slack writes in one transaction.
 */
export function createOwnerService(deps: IncidentDeps) {
  const { db, clock, notifier, access } = deps;

  /**
   * Checks the permission, then `before` (a check of the request itself: when it throws, nothing
   * is written), then runs `work` on the incident re-read under a row lock. `work` refuses a
   * resolved incident by throwing `resolvedError`, which rolls its transaction back.
   */
  async function guarded(
    req: OwnerRequest,
    action: "take" | "assign" | "update" | "severity",
    work: (tx: Db, incident: Incident, now: Date) => Promise<OwnerResult>,
    before?: (incident: Incident) => Promise<void>,
  ): Promise<OwnerResult> {
    const current = await loadIncident(db, req.incidentId);
    const attempt: Attempt = { ...req, action };
    const decision = await access.can(req.actor, OWNER_PERMISSION, current.model);
    if (decision.allowed) await before?.(current);
    const result = await db.transaction(async (tx): Promise<OwnerResult> => {
      if (!decision.allowed) {
        const words =
          action === "severity" ? { doing: "change the severity of", nothing: "changed" } : undefined;
        const message = await refuseAttempt(deps, tx, attempt, current, decision.allowedPrincipals, words);
        return { outcome: "refused", incident: current, message };
      }
      const incident = await createIncidentRepository(tx).byId(current.id, true);
      if (!incident) throw new IncidentNotFoundError(formatRef(current.id));
      return work(tx, incident, clock.now());
    });
    notifier.wake();
    return result;
  }

  /** Makes `owner` the owner; `unchanged` (told, and in the timeline) when they already are. */
  async function setOwner(
    tx: Db,
    incident: Incident,
    owner: string,
    req: OwnerRequest,
    action: "take" | "assign",
    now: Date,
  ): Promise<OwnerResult> {
    const ref = formatRef(incident.id);
    // Assigning it to oneself is taking it, and the thread says so.
    const how = owner === req.actor ? "took" : "assigned";
    if (incident.assignee === owner) {
      const message = owner === req.actor ? `You already own ${ref}.` : `<@${owner}> already owns ${ref}.`;
      await recordUnchanged(deps, tx, { ...req, action }, message, { owner });
      return { outcome: "unchanged", incident, message };
    }
    const updated = await createIncidentRepository(tx).update(
      incident.id,
      ownerPatch(deps, incident, owner, now),
    );
    await recordOwnerChange(deps, tx, {
      incident: updated,
      from: incident.assignee,
      actor: req.actor,
      via: req.via,
      how,
      at: now,
    });
    const card = await snapshotOf(deps, tx, updated);
    await notifier.updateCard(tx, card);
    if (owner !== req.actor) await notifier.handOver(tx, card, req.actor);
    await auditAttempt(tx, { ...req, action }, "ok", { from: incident.assignee, to: owner });
    const message =
      owner === req.actor
        ? `You own ${ref} now.`
        : `<@${owner}> owns ${ref} now; they got a DM with its summary.`;
    return { outcome: "done", incident: updated, message };
  }

  return {
    /** *Take it*: the person becomes the owner. */
    take(req: OwnerRequest): Promise<OwnerResult> {
      return guarded(req, "take", async (tx, incident, now) => {
        if (incident.state === "resolved") throw resolvedError(incident, "be taken");
        return setOwner(tx, incident, req.actor, req, "take", now);
      });
    },

    /**
     * Hands the incident to `to` (a Slack user id), who gets a DM with its summary. The new owner
     * must be someone who may acknowledge it; otherwise nothing is written and the person is told.
     */
    assign(req: OwnerRequest & { to: string }): Promise<OwnerResult> {
      return guarded(
        req,
        "assign",
        async (tx, incident, now) => {
          if (incident.state === "resolved") throw resolvedError(incident, "be assigned");
          return setOwner(tx, incident, req.to, req, "assign", now);
        },
        async (incident) => {
          const target = await access.can(req.to, OWNER_PERMISSION, incident.model);
          if (target.allowed) return;
          throw new IncidentError(
            "owner_not_allowed",
            `<@${req.to}> cannot own ${formatRef(incident.id)}: its owner must be someone who may acknowledge it. Nothing was changed.`,
          );
        },
      );
    },

    /**
     * Posts a status update in the thread (and the model's stakeholder channel), shows it on the
     * card and restarts the owner's update rhythm.
     */
    update(req: OwnerRequest & { update: StatusUpdate }): Promise<OwnerResult> {
      return guarded(req, "update", async (tx, incident, now) => {
        if (incident.state === "resolved") throw resolvedError(incident, "get status updates");
        const repo = createIncidentRepository(tx);
        const every = updateEveryOf(deps.config, incident.severity);
        const updated = await repo.update(incident.id, {
          lastUpdateAt: now,
          updateDueAt: incident.assignee && every !== undefined ? new Date(now.getTime() + every) : null,
        });
        const note = {
          kind: "status_update" as const,
          incidentId: incident.id,
          actor: req.actor,
          state: incident.state,
          owner: incident.assignee,
          update: req.update,
        };
        const outboxId = await notifier.reply(tx, updated, note);
        const stakeholders = stakeholderChannelOf(deps.config, incident.model);
        const announced = stakeholders ? await notifier.announce(tx, stakeholders, updated, note) : null;
        await repo.addEvent({
          incidentId: incident.id,
          at: now,
          kind: EVENT_KINDS.statusUpdate,
          actor: req.actor,
          via: req.via,
          detail: {
            state: incident.state,
            known: req.update.known,
            ...(req.update.next ? { next: req.update.next } : {}),
            ...(stakeholders ? { stakeholder_channel: stakeholders, stakeholder_outbox_id: announced } : {}),
          },
          outboxId,
        });
        await notifier.updateCard(tx, await snapshotOf(deps, tx, updated));
        await auditAttempt(tx, { ...req, action: "update" }, "ok", { state: incident.state });
        const where = stakeholders
          ? ` and ${/^[CG][A-Z0-9]{2,}$/.test(stakeholders) ? `<#${stakeholders}>` : `#${stakeholders}`}`
          : "";
        return {
          outcome: "done",
          incident: updated,
          message: `Your update on ${formatRef(incident.id)} is posted in its thread${where}.`,
        };
      });
    },

    /**
     * Sets the severity by hand (the card's select): the card re-rendered, a thread note, a
     * `severity_changed` timeline row; from then on findings no longer change it. The update
     * rhythm follows the new level, and a level whose escalation starts higher pages that tier
     * when nobody has acknowledged yet.
     */
    severity(req: OwnerRequest & { to: Incident["severity"] }): Promise<OwnerResult> {
      return guarded(req, "severity", async (tx, incident, now) => {
        const ref = formatRef(incident.id);
        if (incident.state === "resolved") throw resolvedError(incident, "change severity");
        if (incident.severity === req.to) {
          const message = `${ref} is ${req.to} already.`;
          await recordUnchanged(deps, tx, { ...req, action: "severity" }, message, { severity: req.to });
          return { outcome: "unchanged", incident, message };
        }
        const every = updateEveryOf(deps.config, req.to);
        const base = (incident.lastUpdateAt ?? now).getTime();
        const repo = createIncidentRepository(tx);
        const updated = await repo.update(incident.id, {
          severity: req.to,
          severitySetBy: req.actor,
          updateDueAt:
            incident.assignee && every !== undefined ? new Date(Math.max(now.getTime(), base + every)) : null,
        });
        const outboxId = await notifier.reply(tx, updated, {
          kind: "severity",
          from: incident.severity,
          to: req.to,
          actor: req.actor,
        });
        await repo.addEvent({
          incidentId: incident.id,
          at: now,
          kind: EVENT_KINDS.severityChanged,
          actor: req.actor,
          via: req.via,
          detail: { from: incident.severity, to: req.to },
          outboxId,
        });
        await deps.severityChanged?.(tx, updated, incident.severity, now);
        await notifier.updateCard(tx, await snapshotOf(deps, tx, updated));
        await auditAttempt(tx, { ...req, action: "severity" }, "ok", { from: incident.severity, to: req.to });
        return { outcome: "done", incident: updated, message: `${ref} is ${req.to} now.` };
      });
    },

    /**
     * Checks the update permission before the Update dialog opens: a refusal is recorded and told
     * like one from `update`; a resolved incident is told so (nothing written).
     */
    async precheckUpdate(req: OwnerRequest): Promise<{ allowed: boolean; incident: Incident }> {
      const incident = await loadIncident(db, req.incidentId);
      const decision = await access.can(req.actor, OWNER_PERMISSION, incident.model);
      if (decision.allowed) {
        if (incident.state === "resolved") throw resolvedError(incident, "get status updates");
        return { allowed: true, incident };
      }
      await db.transaction((tx) =>
        refuseAttempt(deps, tx, { ...req, action: "update" }, incident, decision.allowedPrincipals),
      );
      notifier.wake();
      return { allowed: false, incident };
    },
  };
}

/** The owner service. */
export type OwnerService = ReturnType<typeof createOwnerService>;
