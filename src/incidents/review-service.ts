import type { Db } from "../db/index.js";
import { createAlertRepository } from "./alert-repository.js";
import type { IncidentDeps } from "./deps.js";
import { EVENT_KINDS, formatRef, type Incident, sandboxNames, type Via } from "./model.js";
import { createIncidentRepository } from "./repository.js";
import { reviewFileName, reviewMarkdown } from "./review.js";

/** The most timeline events a review reads (a flapping alert's firings beyond it are counted, not listed). */
const REVIEW_EVENTS = 5000;

/** The review of an incident as it stands now, read in `tx`. */
export async function reviewOf(
  deps: Pick<IncidentDeps, "config">,
  tx: Db,
  incident: Incident,
): Promise<string> {
  const alert = await createAlertRepository(tx).byId(incident.alertId);
  if (!alert) throw new Error(`alert ${incident.alertId} of incident ${incident.id} is missing`);
  const names = sandboxNames(deps.config);
  return reviewMarkdown({
    incident,
    alert,
    modelName: deps.config.models.find((m) => m.slug === incident.model)?.name ?? incident.model,
    timeline: await createIncidentRepository(tx).timeline(incident.id, REVIEW_EVENTS),
    nameOf: (actor) => names.get(actor) ?? actor,
  });
}

/**
 * Queues the review draft as a file in the incident's thread, in the transaction that resolves
 * it: the file goes out if and only if the resolution commits, through the outbox (a crash or a
 * Slack outage delays it; its unique file name keeps a retried upload from showing twice).
 */
export async function postReview(
  deps: Pick<IncidentDeps, "config" | "notifier" | "clock">,
  tx: Db,
  incident: Incident,
  via: Via,
): Promise<void> {
  if (!deps.notifier.postFile) return;
  const ref = formatRef(incident.id);
  const filename = reviewFileName(incident.id);
  const outboxId = await deps.notifier.postFile(tx, incident, {
    filename,
    title: `${ref} post-incident review (draft)`,
    content: await reviewOf(deps, tx, incident),
    comment: `Post-incident review draft for ${ref}. Add follow-ups with \`/mlops followup ${ref} <text>\`; the incident log serves the current version at /incidents/${ref}/review.md.`,
  });
  await createIncidentRepository(tx).addEvent({
    incidentId: incident.id,
    at: deps.clock.now(),
    kind: EVENT_KINDS.posted,
    actor: "system",
    via,
    detail: { what: "review", title: filename },
    outboxId,
  });
}
