import { describePrincipals } from "../access/index.js";
import { createAuditRepository } from "../audit/index.js";
import type { Db } from "../db/index.js";
import type { IncidentDeps } from "./deps.js";
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
  const outboxId = req.replyTo ? await deps.notifier.tell(tx, req.replyTo, message) : null;
  await createIncidentRepository(tx).addEvent({
    incidentId: incident.id,
    at: deps.clock.now(),
    kind: EVENT_KINDS.refused,
    actor: req.actor,
    via: req.via,
    detail: { action: req.action, allowed },
    outboxId,
  });
  await auditAttempt(tx, req, "refused", { allowed });
  return message;
}
