import type { Db } from "../db/index.js";
import { SEVERITIES, SEVERITY_RANK } from "../shared/severity.js";
import { createAlertRepository } from "./alert-repository.js";
import { type IncidentDeps, incidentMatcher, policyOf, snapshotOf } from "./deps.js";
import { groupRecovered, groupTitle, rankMembers } from "./group-model.js";
import { createMemberRepository } from "./member-repository.js";
import { EVENT_KINDS, type Incident, type Silence, summarizeResolution } from "./model.js";
import type { ThreadNote } from "./ports.js";
import { createIncidentRepository } from "./repository.js";
import { postReview } from "./review-service.js";

/** An incident a signal resolved, before and after. */
export type Resolved = { before: Incident; after: Incident };

/**
 * What a grouped incident does as its members change: it follows its lead member on the card,
 * and resolves once every member has been clean for `alerting.resolve_after` runs.
 */
export function createGroupLifecycle(deps: IncidentDeps) {
  const { notifier } = deps;
  const policy = policyOf(deps.config);

  /**
   * Re-reads the group, points the incident at its lead member (title, severity, the alert the
   * card and charts lead with) and re-renders the card.
   */
  async function refreshCard(
    tx: Db,
    incident: Incident,
    patch: Partial<Incident>,
    silence: Silence | null | undefined,
  ): Promise<Incident> {
    const updated = await createIncidentRepository(tx).update(incident.id, {
      ...patch,
      ...(await leadOf(tx, incident)),
    });
    await followSeverity(tx, incident, updated);
    await notifier.updateCard(
      tx,
      await snapshotOf(deps, tx, updated, silence === undefined ? {} : { silence }),
    );
    return updated;
  }

  /**
   * A worse finding raised the incident's severity (a critical member joined a warning group): the
   * escalation follows as for a raise by hand, paging the new level's start tier if nobody has
   * acknowledged yet.
   */
  async function followSeverity(tx: Db, before: Incident, after: Incident): Promise<void> {
    if (SEVERITY_RANK[after.severity] < SEVERITY_RANK[before.severity])
      await deps.severityChanged?.(tx, after, before.severity, deps.clock.now());
  }

  /** The fields a grouped incident takes from its lead member; none for one finding per incident. */
  async function leadOf(tx: Db, incident: Incident): Promise<Partial<Incident>> {
    const members = rankMembers(await createMemberRepository(tx).of(incident.id));
    const lead = members[0];
    if (!lead || members.length < 2) return {};
    const firing = members.filter((m) => m.state === "firing");
    // A severity set by hand stays until someone changes it again; otherwise the worst firing member's.
    const severity = incident.severitySetBy
      ? undefined
      : SEVERITIES.find((x) => (firing.length ? firing : members).some((m) => m.alert.severity === x));
    return {
      alertId: lead.alert.id,
      subject: lead.alert.subject,
      title: groupTitle(members) ?? incident.title,
      ...(severity ? { severity } : {}),
    };
  }

  /**
   * Resolves an incident whose members have all recovered for `resolve_after` clean runs (or
   * posts a notice when `resolve_with_alert` is off); otherwise re-renders its card.
   */
  async function settleIncident(
    tx: Db,
    incidentId: number,
    actor: string,
    now: Date,
    resolvedHere: Resolved[],
  ): Promise<"recovered" | "resolved" | "recorded"> {
    const incidents = createIncidentRepository(tx);
    const open = await incidents.byId(incidentId, true);
    if (!open || open.state === "resolved") return "recorded";
    const members = await createMemberRepository(tx).of(open.id);
    if (!groupRecovered(members, policy.resolveAfter)) {
      await refreshCard(tx, open, {}, undefined);
      return "recovered";
    }
    const lead = rankMembers(members)[0]?.alert;
    const silenced = (await createAlertRepository(tx).silencing(incidentMatcher(open), now)).length > 0;
    if (!policy.resolveWithAlert) {
      if (open.nextReminderAt === null) {
        // Already announced: a later recovery of the same group says nothing new.
        await refreshCard(tx, open, {}, undefined);
        return "recorded";
      }
      const updated = await refreshCard(tx, open, { nextReminderAt: null }, undefined);
      if (!silenced && lead) {
        await say(tx, updated, { kind: "alert_resolved", alert: lead }, "alert resolved notice", now);
      }
      return "recorded";
    }
    const note =
      members.length > 1
        ? `All ${members.length} findings recovered${policy.resolveAfter > 1 ? ` and stayed so for ${policy.resolveAfter} runs` : ""}.`
        : "The alert reported resolved.";
    const updated = await incidents.update(open.id, {
      state: "resolved",
      resolvedAt: now,
      resolvedBy: actor,
      resolution: note,
      nextReminderAt: null,
      updateDueAt: null,
      pendingFirings: 0,
      ...(await leadOf(tx, open)),
    });
    await incidents.addEvent({
      incidentId: open.id,
      at: now,
      kind: EVENT_KINDS.resolved,
      actor,
      via: "alert",
      detail: { from: open.state, to: "resolved", note },
    });
    resolvedHere.push({ before: open, after: updated });
    const summary = summarizeResolution(updated, await incidents.timeline(open.id));
    await say(tx, updated, { kind: "resolved", summary }, "resolution summary", now);
    await notifier.updateCard(tx, await snapshotOf(deps, tx, updated, { silence: null }));
    await postReview(deps, tx, updated, "alert");
    return "resolved";
  }

  /** A reply in the incident's thread, with its `posted` row in the timeline. */
  async function say(tx: Db, incident: Incident, note: ThreadNote, what: string, now: Date): Promise<void> {
    const outboxId = await notifier.reply(tx, incident, note);
    await createIncidentRepository(tx).addEvent({
      incidentId: incident.id,
      at: now,
      kind: EVENT_KINDS.posted,
      actor: "system",
      via: "alert",
      detail: { what },
      outboxId,
    });
  }

  return { refreshCard, leadOf, settleIncident, followSeverity };
}
