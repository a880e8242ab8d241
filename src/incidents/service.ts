import type { Db } from "../db/index.js";
import { formatDuration } from "../shared/duration.js";
import { type Attempt, auditAttempt, loadIncident, recordUnchanged, refuseAttempt } from "./attempts.js";
import { type IncidentDeps, type ResponseStage, snapshotOf } from "./deps.js";
import { IncidentError, IncidentNotFoundError } from "./errors.js";
import {
  ACTION_EVENT,
  ACTION_PERMISSION,
  EVENT_KINDS,
  formatRef,
  type Incident,
  type IncidentAction,
  summarizeResolution,
  transition,
  type Via,
} from "./model.js";
import { ownerPatch, recordOwnerChange } from "./owner-service.js";
import type { IncidentSnapshot } from "./ports.js";
import { createIncidentRepository, type IncidentFilter, type TimelineEntry } from "./repository.js";
import { postReview, reviewOf } from "./review-service.js";

/** Someone asks to change an incident's state. */
export interface ActionRequest {
  incidentId: number;
  action: IncidentAction;
  /** Slack user id, or `api:<token>` / `system`. */
  actor: string;
  via: Via;
  /** Resolution or mitigation note. */
  note?: string | undefined;
  /** Where the person answered when not in Slack (a pager's provider, e.g. `PagerDuty`). */
  from?: string | undefined;
  /** Where to tell the person the outcome when it is not the change itself (buttons): an ephemeral. */
  replyTo?: { channel: string; user: string } | undefined;
}

/** What came of an action request; `message` is for the person who asked (Slack mrkdwn). */
export interface ActionResult {
  outcome: "done" | "unchanged" | "refused";
  incident: Incident;
  message: string;
}

/** Someone asks to add a follow-up item to an incident's review. */
export interface FollowupRequest {
  incidentId: number;
  actor: string;
  via: Via;
  text: string;
}

/** The longest follow-up item. */
export const MAX_FOLLOWUP = 500;

const PAST: Record<IncidentAction, string> = {
  acknowledge: "acknowledged",
  mitigate: "marked mitigated",
  resolve: "resolved",
};

/** Incident use cases: state changes through the state machine, with timeline, audit and Slack writes. */
export function createIncidentService(deps: IncidentDeps) {
  const { db, clock, notifier } = deps;

  function load(id: number): Promise<Incident> {
    return loadIncident(db, id);
  }

  function audit(tx: Db, req: Attempt, outcome: "ok" | "refused", detail: Record<string, unknown>) {
    return auditAttempt(tx, req, outcome, detail);
  }

  function refuse(
    tx: Db,
    req: Attempt,
    incident: Incident,
    allowed: string[],
    words?: { doing: string; nothing: string },
  ): Promise<string> {
    return refuseAttempt(deps, tx, req, incident, allowed, words);
  }

  return {
    /** The incident, or IncidentNotFoundError. */
    get: load,

    /** The card's content for an incident. */
    async snapshot(id: number): Promise<IncidentSnapshot> {
      return snapshotOf(deps, db, await load(id));
    },

    /** Incidents newest first. */
    list(filter: IncidentFilter): Promise<Incident[]> {
      return createIncidentRepository(db).list(filter);
    },

    /** The timeline of an incident, oldest first. */
    async timeline(id: number, limit?: number): Promise<TimelineEntry[]> {
      await load(id);
      return createIncidentRepository(db).timeline(id, limit);
    },

    /** The post-incident review as it stands now (Markdown), with every follow-up added so far. */
    async review(id: number): Promise<string> {
      return reviewOf(deps, db, await load(id));
    },

    /**
     * Adds a follow-up item to an incident's review: a timeline event (the review reads them), a
     * note in the thread and an audit entry. Who may acknowledge may add follow-ups; anyone else
     * is refused like any other action (nothing is added; the attempt is timelined and audited).
     */
    async addFollowup(req: FollowupRequest): Promise<ActionResult> {
      const text = req.text.replace(/\s+/g, " ").trim();
      if (!text) throw new IncidentError("invalid_followup", "Say what to follow up. Nothing was added.");
      if (text.length > MAX_FOLLOWUP)
        throw new IncidentError(
          "invalid_followup",
          `A follow-up is at most ${MAX_FOLLOWUP} characters (this one has ${text.length}). Nothing was added.`,
        );
      const incident = await load(req.incidentId);
      const ref = formatRef(incident.id);
      const attempt = { ...req, action: "followup" };
      const decision = await deps.access.can(req.actor, "acknowledge", incident.model);
      const result = await db.transaction(async (tx): Promise<ActionResult> => {
        if (!decision.allowed) {
          const message = await refuse(tx, attempt, incident, decision.allowedPrincipals, {
            doing: "add follow-ups to",
            nothing: "added",
          });
          return { outcome: "refused", incident, message };
        }
        const repo = createIncidentRepository(tx);
        const count = (await repo.countEvents(incident.id, EVENT_KINDS.followupAdded)) + 1;
        const outboxId = await notifier.reply(tx, incident, {
          kind: "followup",
          actor: req.actor,
          text,
          count,
        });
        await repo.addEvent({
          incidentId: incident.id,
          at: clock.now(),
          kind: EVENT_KINDS.followupAdded,
          actor: req.actor,
          via: req.via,
          detail: { text },
          outboxId,
        });
        await audit(tx, attempt, "ok", { text });
        return {
          outcome: "done",
          incident,
          message: `Added follow-up ${count} to ${ref}'s review: ${text}`,
        };
      });
      notifier.wake();
      return result;
    },

    /**
     * Checks the permission before a dialog opens (Resolve asks for a note first): a refusal is
     * recorded and told like one from `act`; an allowed request changes nothing yet.
     */
    async precheck(req: ActionRequest): Promise<{ allowed: boolean; incident: Incident; message: string }> {
      const incident = await load(req.incidentId);
      const decision = await deps.access.can(req.actor, ACTION_PERMISSION[req.action], incident.model);
      if (decision.allowed) return { allowed: true, incident, message: "" };
      const message = await db.transaction((tx) => refuse(tx, req, incident, decision.allowedPrincipals));
      notifier.wake();
      return { allowed: false, incident, message };
    },

    /** Tells one person something in a channel (an ephemeral through the outbox), outside any change. */
    async tell(to: { channel: string; user: string }, text: string): Promise<void> {
      await db.transaction((tx) => notifier.tell(tx, to, text));
      notifier.wake();
    },

    /**
     * Acknowledge, mitigate or resolve. The permission is checked first; a refusal changes nothing
     * but is written to the timeline and the audit log. The state is re-read under a row lock, so
     * of many concurrent identical requests exactly one changes it; the rest are "unchanged".
     */
    async act(req: ActionRequest): Promise<ActionResult> {
      const current = await load(req.incidentId);
      const ref = formatRef(current.id);
      const permission = ACTION_PERMISSION[req.action];
      const decision = await deps.access.can(req.actor, permission, current.model);
      const result = await db.transaction(async (tx): Promise<ActionResult> => {
        const repo = createIncidentRepository(tx);
        const now = clock.now();
        if (!decision.allowed) {
          const message = await refuse(tx, req, current, decision.allowedPrincipals);
          return { outcome: "refused", incident: current, message };
        }
        const incident = await repo.byId(current.id, true);
        if (!incident) throw new IncidentNotFoundError(ref);
        const step = transition(incident.state, req.action);
        if (!step.ok) {
          const by =
            incident.state === "acknowledged" && incident.acknowledgedBy
              ? ` by <@${incident.acknowledgedBy}>`
              : incident.state === "resolved" && incident.resolvedBy
                ? ` by ${incident.resolvedBy.startsWith("U") ? `<@${incident.resolvedBy}>` : incident.resolvedBy}`
                : "";
          const message = `${ref} was not changed: ${step.reason}${by}.`;
          await recordUnchanged(deps, tx, req, message, { state: incident.state });
          return { outcome: "unchanged", incident, message };
        }
        const patch: Partial<Incident> = { state: step.to };
        if (req.action === "acknowledge") {
          // Acknowledging an incident nobody owns yet makes the acknowledger its owner.
          Object.assign(patch, {
            acknowledgedAt: now,
            acknowledgedBy: req.actor,
            ...(incident.assignee ? {} : ownerPatch(deps, incident, req.actor, now)),
          });
        } else if (req.action === "mitigate") {
          Object.assign(patch, { mitigatedAt: now, mitigatedBy: req.actor });
        } else {
          Object.assign(patch, {
            resolvedAt: now,
            resolvedBy: req.actor,
            resolution: req.note ?? null,
            nextReminderAt: null,
            updateDueAt: null,
            pendingFirings: 0,
          });
        }
        const updated = await repo.update(incident.id, patch);
        await repo.addEvent({
          incidentId: incident.id,
          at: now,
          kind: ACTION_EVENT[req.action],
          actor: req.actor,
          via: req.via,
          detail: {
            from: incident.state,
            to: step.to,
            ...(req.note ? { note: req.note } : {}),
            ...(req.from ? { answeredFrom: req.from } : {}),
          },
        });
        if (updated.assignee !== incident.assignee)
          await recordOwnerChange(deps, tx, {
            incident: updated,
            from: incident.assignee,
            actor: req.actor,
            via: req.via,
            how: "acknowledged",
            at: now,
          });
        const note =
          req.action === "resolve"
            ? {
                kind: "resolved" as const,
                summary: summarizeResolution(updated, await repo.timeline(incident.id)),
              }
            : {
                kind: "state" as const,
                action: req.action,
                actor: req.actor,
                via: req.via,
                note: req.note,
                from: req.from,
              };
        const replyId = await notifier.reply(tx, updated, note);
        await notifier.updateCard(tx, await snapshotOf(deps, tx, updated));
        await repo.addEvent({
          incidentId: incident.id,
          at: now,
          kind: EVENT_KINDS.posted,
          actor: "system",
          via: req.via,
          detail: { what: note.kind === "resolved" ? "resolution summary" : `${PAST[req.action]} note` },
          outboxId: replyId,
        });
        // The review draft follows the summary in the thread, built from the timeline as it now stands.
        if (req.action === "resolve") await postReview(deps, tx, updated, req.via);
        await audit(tx, req, "ok", { from: incident.state, to: step.to });
        const took =
          req.action === "resolve"
            ? ` after ${formatDuration(now.getTime() - incident.openedAt.getTime())}`
            : "";
        return { outcome: "done", incident: updated, message: `You ${PAST[req.action]} ${ref}${took}.` };
      });
      notifier.wake();
      if (result.outcome === "done") observeStages(deps, current, result.incident);
      return result;
    },
  };
}

/** Reports each stage an action moved the incident through (resolving an open one is only resolve). */
export function observeStages(deps: Pick<IncidentDeps, "stages">, before: Incident, after: Incident): void {
  if (!deps.stages) return;
  const opened = after.openedAt.getTime();
  const reached: [ResponseStage, Date | null, Date | null][] = [
    ["acknowledge", before.acknowledgedAt, after.acknowledgedAt],
    ["mitigate", before.mitigatedAt, after.mitigatedAt],
    ["resolve", before.resolvedAt, after.resolvedAt],
  ];
  for (const [stage, was, is] of reached)
    if (!was && is) deps.stages(stage, after, Math.max(0, (is.getTime() - opened) / 1000));
}

/** The incident service. */
export type IncidentService = ReturnType<typeof createIncidentService>;
