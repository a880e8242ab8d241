import { describePrincipals } from "../access/index.js";
import { createAuditRepository } from "../audit/index.js";
import type { Db } from "../db/index.js";
import type { IncidentDeps } from "./deps.js";
import { IncidentNotFoundError } from "./errors.js";
import { EVENT_KINDS, formatRef, type Incident, type Via } from "./model.js";
import { createIncidentRepository } from "./repository.js";

/** Someone's attempt at something guarded by a permission on one incident. */
export interface Attempt {
  incidentId: number;
  /** What was attempted, e.g. `acknowledge`, `take`, `update`; the audit action is `incident.<action>`. */
  action: string;
  /** Slack user id, or `api:<token>` / `system`. */
  actor: string;
  via: Via;
  /** Where to tell the person the outcome when it is not the change itself (buttons): an ephemeral. */
  replyTo?: { channel: string; user: string } | undefined;
}

/** Writes the audit row of an attempt, in the caller's transaction. */
export function auditAttempt(
  tx: Db,
  req: Attempt,
  outcome: "ok" | "refused",
  detail: Record<string, unknown>,
): Promise<unknown> {
  return createAuditRepository(tx).record({
    source:
      req.via === "api" ? "api" : req.actor.startsWith("U") || req.actor.startsWith("W") ? "slack" : "system",
    actor: req.actor,
    action: `incident.${req.action}`,
    target: formatRef(req.incidentId),
    outcome,
    detail,
  });
}

/**
 * Writes a refusal: a `refused` timeline row, the audit row and (for buttons) an ephemeral naming
 * who may; nothing else changes. Returns what to tell the person.
 */
export async function refuseAttempt(
  deps: Pick<IncidentDeps, "config" | "clock" | "notifier">,
  tx: Db,
  req: Attempt,
  incident: Incident,
  allowed: string[],
): Promise<string> {
  const ref = formatRef(incident.id);
  const whoMay = describePrincipals(deps.config, allowed, incident.model);
  const message = `You may not ${req.action} ${ref}: that takes ${whoMay}. Nothing was changed.`;
  await recordUnchanged(deps, tx, req, message, { allowed }, EVENT_KINDS.refused);
  await auditAttempt(tx, req, "refused", { allowed });
  return message;
}

/** The incident `id`, or IncidentNotFoundError. */
export async function loadIncident(db: Db, id: number): Promise<Incident> {
  const incident = await createIncidentRepository(db).byId(id);
  if (!incident) throw new IncidentNotFoundError(formatRef(id));
  return incident;
}

/**
 * Records an attempt that changed nothing (acknowledging twice, taking what one owns; `refused`
 * for refusals): an `unchanged` timeline row and, for buttons, an ephemeral with `message`.
 */
export async function recordUnchanged(
  deps: Pick<IncidentDeps, "clock" | "notifier">,
  tx: Db,
  req: Attempt,
  message: string,
  detail: Record<string, unknown>,
  kind: string = EVENT_KINDS.unchanged,
): Promise<void> {
  const outboxId = req.replyTo ? await deps.notifier.tell(tx, req.replyTo, message) : null;
  await createIncidentRepository(tx).addEvent({
    incidentId: req.incidentId,
    at: deps.clock.now(),
    kind,
    actor: req.actor,
    via: req.via,
    detail: { action: req.action, ...detail },
    outboxId,
  });
}
