import { type AccessControl, describePrincipals, type GroupRef } from "../access/index.js";
import { createAuditRepository } from "../audit/index.js";
import type { MlopsConfig } from "../config/index.js";
import type { Db } from "../db/index.js";
import {
  type ActionRequest,
  type ActionResult,
  createIncidentRepository,
  type EscalationDescriber,
  formatRef,
  type Incident,
  IncidentNotFoundError,
  type Via,
} from "../incidents/index.js";
import type { Clock } from "../shared/clock.js";
import type { Logger } from "../shared/logger.js";
import { EscalationError } from "./errors.js";
import {
  deadlineAfterPage,
  ESCALATION_EVENTS,
  type EscalationPolicy,
  type EscalationRow,
  escalateRefusal,
  type TierPolicy,
  highestTier,
  NO_GROUP,
  policyFor,
  TIERS,
  tierLabel,
  tierOf,
} from "./model.js";
import type { EscalationNotifier, OnCallLookup, PageDirectory, PagerQueue } from "./ports.js";
import { createEscalationRepository } from "./repository.js";

/** What the escalation services need; wired once by the feature. */
export interface EscalationDeps {
  db: Db;
  clock: Clock;
  config: MlopsConfig;
  logger: Logger;
  access: Pick<AccessControl, "can" | "groupsOf">;
  notifier: EscalationNotifier;
  directory: PageDirectory;
  /** Who is on call in a tier's schedule; without it, schedules are ignored and the group is paged. */
  onCall?: OnCallLookup;
  /** Pages beyond Slack (a tier's `notify`); without it, `notify` is ignored. */
  pagers?: PagerQueue;
  /** The incident service's acknowledge (a DM's Acknowledge acts exactly like the card's). */
  acknowledge(req: ActionRequest): Promise<ActionResult>;
}

/** Someone asks to move an incident to the next tier. */
export interface EscalateRequest {
  incidentId: number;
  actor: string;
  via: Via;
  note?: string | undefined;
  /** The tier the person saw (a button carries it): a click on a stale card changes nothing. */
  expectedTier?: number | undefined;
  replyTo?: { channel: string; user: string } | undefined;
}

/** What came of a request; `message` is for the person who asked. */
export interface EscalateResult {
  outcome: "done" | "unchanged" | "refused";
  tier: number;
  message: string;
}

/** The people of each tier of a model right now. */
export interface OnCall {
  model: string;
  modelName: string;
  tiers: {
    tier: number;
    group: string;
    handle: string;
    members: string[];
    waitMs: number;
    dm: boolean;
    /** The tier's schedule and who is on call in it now (null: nobody), when it has one. */
    onCall: { schedule: string; user: string | null } | null;
  }[];
}

/** The stored policy of a row (frozen JSON). */
export function policyOfRow(row: EscalationRow): EscalationPolicy {
  return row.policy as unknown as EscalationPolicy;
}

/** The config's user group for a policy's group key (a handle-only ref when the key is unknown). */
export function groupRefOf(config: MlopsConfig, key: string): GroupRef {
  return config.workspace.user_groups[key] ?? { handle: key };
}

/** What a page of a tier is addressed to, in words: `@ds` or, schedule-only, `whoever is on call in ds-oncall`. */
export function tierTarget(config: MlopsConfig, tier: TierPolicy): string {
  return tier.group === NO_GROUP
    ? `whoever is on call in ${tier.schedule ?? "its schedule"}`
    : `@${groupRefOf(config, tier.group).handle}`;
}

/**
 * The card's view of an incident's escalation, read in the caller's transaction: the tier, its
 * group and the next deadline. Before the timer has started the escalation (within a tick of the
 * incident opening) it shows L1 with the deadline the policy implies.
 */
export function escalationDescriber(config: MlopsConfig): EscalationDescriber {
  return async (tx, incident) => {
    const row = await createEscalationRepository(tx).byIncident(incident.id);
    const policy = row ? policyOfRow(row) : policyFor(config, incident.model, incident.severity);
    const tier = row?.tier ?? (incident.state === "open" ? (policy.startTier ?? 1) : 1);
    const nextAt = row
      ? row.nextAt
      : incident.state === "open"
        ? deadlineAfterPage(policy, tier, incident.openedAt)
        : null;
    const tp = tierOf(policy, tier);
    return {
      tier,
      handle: tp.group === NO_GROUP ? "" : groupRefOf(config, tp.group).handle,
      ...(tp.group === NO_GROUP && tp.schedule ? { schedule: tp.schedule } : {}),
      nextAt: incident.state === "resolved" ? null : nextAt,
      canEscalate: tier < 3 && incident.state !== "resolved",
    };
  };
}

/**
 * Moves an escalation up to tier `to` now (its wait starts afresh) and records the page that
 * tier gets, in the caller's transaction; `policy` replaces the frozen one when given. Returns the
 * step number of the page.
 */
async function pageTierNow(
  tx: Db,
  row: EscalationRow,
  policy: EscalationPolicy,
  to: number,
  now: Date,
  page: { reason: string; actor: string; note: string | null },
  refreeze = false,
): Promise<number> {
  const repo = createEscalationRepository(tx);
  const step = row.step + 1;
  await repo.update(row.incidentId, {
    ...(refreeze ? { policy: policy as unknown as Record<string, unknown> } : {}),
    tier: to,
    pagesAtTier: 1,
    step,
    tierSince: now,
    nextAt: deadlineAfterPage(policy, to, now),
    nextKind: "escalate",
    updatedAt: now,
  });
  await repo.addPage({ incidentId: row.incidentId, step, tier: to, ...page, now });
  return step;
}

/**
 * What a hand-set severity does to an escalation already under way (in the caller's transaction):
 * when nobody has acknowledged and the new level starts at a higher tier (critical: L2 at once),
 * the policy is frozen again for that level and the tier is paged now. Lowering it pages nobody.
 * Without an escalation row yet, the timer starts one with the new severity within a tick.
 */
export function severityEscalator(config: MlopsConfig) {
  return async (tx: Db, incident: Incident, from: Incident["severity"], now: Date): Promise<void> => {
    if (incident.state !== "open") return;
    const repo = createEscalationRepository(tx);
    const row = await repo.byIncident(incident.id, true);
    if (!row) return;
    const policy = policyFor(config, incident.model, incident.severity);
    const to = policy.startTier ?? 1;
    if (to <= row.tier) return;
    const why = `severity raised from ${from} to ${incident.severity}`;
    const step = await pageTierNow(
      tx,
      row,
      policy,
      to,
      now,
      { reason: "severity", actor: "system", note: why },
      true,
    );
    await createIncidentRepository(tx).addEvent({
      incidentId: incident.id,
      at: now,
      kind: ESCALATION_EVENTS.escalated,
      actor: "system",
      via: "schedule",
      detail: { what: `${tierLabel(row.tier)} → ${tierLabel(to)}: ${why}`, from: row.tier, to, step },
    });
  };
}

/**
 * Escalation use cases: start (freeze the policy), escalate by hand, acknowledge a page, and who
 * is on call. The timer lives in `scheduled.ts`.
 */
export function createEscalationService(deps: EscalationDeps) {
  const { db, clock, config, notifier } = deps;

  async function loadIncident(id: number): Promise<Incident> {
    const incident = await createIncidentRepository(db).byId(id);
    if (!incident) throw new IncidentNotFoundError(formatRef(id));
    return incident;
  }

  /**
   * Starts the escalation of an incident in `tx` unless it has one: freezes the policy, arms L1's
   * deadline from the incident's opening, and (when L1 is DMed) queues L1's page.
   */
  async function ensureStarted(tx: Db, incident: Incident, now: Date): Promise<EscalationRow> {
    const repo = createEscalationRepository(tx);
    const existing = await repo.byIncident(incident.id, true);
    if (existing) return existing;
    const policy = policyFor(config, incident.model, incident.severity);
    // A severity that starts higher (critical: L2 at once) pages that tier while nobody has acknowledged.
    const startTier = incident.state === "open" ? (policy.startTier ?? 1) : 1;
    const first = tierOf(policy, startTier);
    const pageFirst =
      startTier > 1 ||
      first.dm ||
      (first.channel !== null && first.channel !== incident.channel) ||
      (first.notify?.length ?? 0) > 0;
    const started = await repo.start({
      incidentId: incident.id,
      model: incident.model,
      policy,
      tier: startTier,
      tierSince: incident.openedAt,
      nextAt: incident.state === "open" ? deadlineAfterPage(policy, startTier, incident.openedAt) : null,
      pagesAtTier: 1,
      step: pageFirst ? 1 : 0,
      now,
    });
    if (!started) {
      const row = await repo.byIncident(incident.id, true);
      if (!row) throw new Error(`escalation of incident ${incident.id} vanished`);
      return row;
    }
    await createIncidentRepository(tx).addEvent({
      incidentId: incident.id,
      at: now,
      kind: ESCALATION_EVENTS.policy,
      actor: "system",
      via: "schedule",
      detail: { policy },
    });
    if (startTier > 1)
      await createIncidentRepository(tx).addEvent({
        incidentId: incident.id,
        at: now,
        kind: ESCALATION_EVENTS.escalated,
        actor: "system",
        via: "schedule",
        detail: {
          what: `${tierLabel(1)} → ${tierLabel(startTier)}: ${incident.severity} incidents page ${tierLabel(startTier)} at once`,
          from: 1,
          to: startTier,
          step: 1,
          severity: incident.severity,
        },
      });
    if (pageFirst)
      await repo.addPage({
        incidentId: incident.id,
        step: 1,
        tier: startTier,
        reason: startTier > 1 ? "severity" : "open",
        actor: "system",
        note: startTier > 1 ? `${incident.severity} incidents page ${tierLabel(startTier)} at once` : null,
        now,
      });
    return started;
  }

  function audit(tx: Db, req: EscalateRequest, outcome: "ok" | "refused", detail: Record<string, unknown>) {
    return createAuditRepository(tx).record({
      source: req.via === "api" ? "api" : /^[UW]/.test(req.actor) ? "slack" : "system",
      actor: req.actor,
      action: "incident.escalate",
      target: formatRef(req.incidentId),
      outcome,
      detail,
    });
  }

  async function refuse(tx: Db, req: EscalateRequest, incident: Incident, message: string, detail: object) {
    const outboxId = req.replyTo ? await notifier.tell(tx, req.replyTo, message) : null;
    await createIncidentRepository(tx).addEvent({
      incidentId: incident.id,
      at: clock.now(),
      kind: "refused",
      actor: req.actor,
      via: req.via,
      detail: { action: "escalate", ...detail },
      outboxId,
    });
    await audit(tx, req, "refused", { ...detail });
  }

  async function unchanged(
    tx: Db,
    req: EscalateRequest,
    incident: Incident,
    message: string,
    detail: object,
  ) {
    const outboxId = req.replyTo ? await notifier.tell(tx, req.replyTo, message) : null;
    await createIncidentRepository(tx).addEvent({
      incidentId: incident.id,
      at: clock.now(),
      kind: "unchanged",
      actor: req.actor,
      via: req.via,
      detail: { action: "escalate", ...detail },
      outboxId,
    });
  }

  return {
    ensureStarted,

    /**
     * Moves an incident to the next tier and queues its page. The escalate permission and the tier
     * rule are checked (the current tier or a higher one may escalate); a refusal changes nothing
     * but is written to the timeline and the audit log. Under the incident's row lock, a request
     * that saw an older tier than the current one is "unchanged", so a burst of clicks is one step.
     */
    async escalate(req: EscalateRequest): Promise<EscalateResult> {
      const current = await loadIncident(req.incidentId);
      const ref = formatRef(current.id);
      const decision = await deps.access.can(req.actor, "escalate", current.model);
      const groups = decision.allowed ? await deps.access.groupsOf(req.actor) : [];
      const seen =
        req.expectedTier ?? (await createEscalationRepository(db).byIncident(current.id))?.tier ?? 1;
      const result = await db.transaction(async (tx): Promise<EscalateResult> => {
        const now = clock.now();
        if (!decision.allowed) {
          const whoMay = describePrincipals(config, decision.allowedPrincipals, current.model);
          const message = `You may not escalate ${ref}: that takes ${whoMay}. Nothing was changed.`;
          await refuse(tx, req, current, message, { allowed: decision.allowedPrincipals });
          return { outcome: "refused", tier: seen, message };
        }
        const incident = await createIncidentRepository(tx).byId(current.id, true);
        if (!incident) throw new IncidentNotFoundError(ref);
        const row = await ensureStarted(tx, incident, now);
        const policy = policyOfRow(row);
        if (incident.state === "resolved") {
          const message = `${ref} was not escalated: it is resolved.`;
          await unchanged(tx, req, incident, message, { state: incident.state, tier: row.tier });
          return { outcome: "unchanged", tier: row.tier, message };
        }
        if (row.tier !== seen) {
          const message = `${ref} was not escalated again: it is at ${tierLabel(row.tier)} already.`;
          await unchanged(tx, req, incident, message, { tier: row.tier, seen });
          return { outcome: "unchanged", tier: row.tier, message };
        }
        if (row.tier >= 3) {
          const message = `${ref} is at ${tierLabel(row.tier)}, the last tier; there is nobody higher to page.`;
          await unchanged(tx, req, incident, message, { tier: row.tier });
          return { outcome: "unchanged", tier: row.tier, message };
        }
        // A schedule-only tier's people are whoever is on call in its schedule now.
        const onCallIn: string[] = [];
        for (const t of TIERS) {
          const tp = tierOf(policy, t);
          if (tp.group === NO_GROUP && tp.schedule && deps.onCall && decision.allowed)
            if ((await deps.onCall(tp.schedule, now)) === req.actor) onCallIn.push(tp.schedule);
        }
        const personTier = highestTier(policy, groups, onCallIn);
        const why = escalateRefusal(row.tier, personTier);
        if (why) {
          const message = `You may not escalate ${ref} from ${tierLabel(row.tier)}: ${why}. Nothing was changed.`;
          await refuse(tx, req, incident, message, { tier: row.tier, personTier });
          return { outcome: "refused", tier: row.tier, message };
        }
        const to = row.tier + 1;
        const step = await pageTierNow(tx, row, policy, to, now, {
          reason: "manual",
          actor: req.actor,
          note: req.note ?? null,
        });
        await createIncidentRepository(tx).addEvent({
          incidentId: incident.id,
          at: now,
          kind: ESCALATION_EVENTS.escalated,
          actor: req.actor,
          via: req.via,
          detail: {
            what: `${tierLabel(row.tier)} → ${tierLabel(to)}`,
            from: row.tier,
            to,
            step,
            ...(req.note ? { note: req.note } : {}),
          },
        });
        await notifier.updateCard(tx, incident);
        await audit(tx, req, "ok", { from: row.tier, to });
        const message = `You escalated ${ref} to ${tierLabel(to)}: ${tierTarget(config, tierOf(policy, to))} is being paged.`;
        if (req.replyTo) await notifier.tell(tx, req.replyTo, message);
        return { outcome: "done", tier: to, message };
      });
      notifier.wake();
      return result;
    },

    /**
     * Acknowledge from a page (a DM): an open incident is acknowledged exactly as from its card; one
     * already acknowledged records that this page was answered, which stops its timer too.
     */
    async acknowledgePage(req: {
      incidentId: number;
      actor: string;
      replyTo: { channel: string; user: string };
    }): Promise<{ outcome: "done" | "unchanged" | "refused"; message: string }> {
      const current = await loadIncident(req.incidentId);
      const ref = formatRef(current.id);
      if (current.state === "open" || current.state === "resolved") {
        const result = await deps.acknowledge({
          incidentId: current.id,
          action: "acknowledge",
          actor: req.actor,
          via: "button",
          replyTo: req.replyTo,
        });
        // The state is open → acknowledged exactly like the card's button (card, thread, timeline).
        if (result.outcome !== "unchanged" || result.incident.state === "resolved") return result;
      }
      const decision = await deps.access.can(req.actor, "acknowledge", current.model);
      const result = await db.transaction(async (tx) => {
        const now = clock.now();
        const incidents = createIncidentRepository(tx);
        if (!decision.allowed) {
          const whoMay = describePrincipals(config, decision.allowedPrincipals, current.model);
          const message = `You may not acknowledge ${ref}: that takes ${whoMay}. Nothing was changed.`;
          const outboxId = await notifier.tell(tx, req.replyTo, message);
          await incidents.addEvent({
            incidentId: current.id,
            at: now,
            kind: "refused",
            actor: req.actor,
            via: "button",
            detail: { action: "acknowledge_page", allowed: decision.allowedPrincipals },
            outboxId,
          });
          await createAuditRepository(tx).record({
            source: "slack",
            actor: req.actor,
            action: "incident.acknowledge_page",
            target: ref,
            outcome: "refused",
            detail: { allowed: decision.allowedPrincipals },
          });
          return { outcome: "refused" as const, message };
        }
        const incident = await incidents.byId(current.id, true);
        if (!incident) throw new IncidentNotFoundError(ref);
        if (incident.state === "resolved") {
          const message = `${ref} is resolved already.`;
          await notifier.tell(tx, req.replyTo, message);
          return { outcome: "unchanged" as const, message };
        }
        const row = await ensureStarted(tx, incident, now);
        await createEscalationRepository(tx).update(incident.id, {
          pageAckedAt: now,
          pageAckedBy: req.actor,
          updatedAt: now,
        });
        const outboxId = await notifier.note(
          tx,
          incident,
          `<@${req.actor}> acknowledged the ${tierLabel(row.tier)} page.`,
        );
        await incidents.addEvent({
          incidentId: incident.id,
          at: now,
          kind: ESCALATION_EVENTS.pageAcknowledged,
          actor: req.actor,
          via: "button",
          detail: { tier: row.tier, state: incident.state },
          outboxId,
        });
        await notifier.updateCard(tx, incident);
        await createAuditRepository(tx).record({
          source: "slack",
          actor: req.actor,
          action: "incident.acknowledge_page",
          target: ref,
          outcome: "ok",
          detail: { tier: row.tier },
        });
        const message = `You acknowledged the ${tierLabel(row.tier)} page of ${ref}; it will not escalate further by itself.`;
        await notifier.tell(tx, req.replyTo, message);
        return { outcome: "done" as const, message };
      });
      notifier.wake();
      return result;
    },

    /** Who is L1, L2 and L3 for each model (or one), resolved to members through the group directory. */
    async onCall(model?: string): Promise<OnCall[]> {
      const models = model ? config.models.filter((m) => m.slug === model) : config.models;
      if (model && models.length === 0)
        throw new EscalationError(
          "unknown_model",
          `There is no model \`${model}\`; known: ${config.models.map((m) => m.slug).join(", ")}.`,
        );
      const out: OnCall[] = [];
      for (const m of models) {
        const policy = policyFor(config, m.slug);
        const tiers = [];
        for (const t of TIERS) {
          const tp = tierOf(policy, t);
          const ref = groupRefOf(config, tp.group);
          const alone = tp.group === NO_GROUP;
          tiers.push({
            tier: t,
            group: tp.group,
            handle: alone ? "" : ref.handle,
            members: alone ? [] : await deps.directory.members(ref),
            waitMs: tp.waitMs,
            dm: tp.dm,
            onCall:
              tp.schedule && deps.onCall
                ? { schedule: tp.schedule, user: await deps.onCall(tp.schedule, deps.clock.now()) }
                : null,
          });
        }
        out.push({ model: m.slug, modelName: m.name, tiers });
      }
      return out;
    },

    /** The escalation row of an incident (tests, the detail view). */
    async state(incidentId: number): Promise<EscalationRow | undefined> {
      return createEscalationRepository(db).byIncident(incidentId);
    },
  };
}

/** The escalation service. */
export type EscalationService = ReturnType<typeof createEscalationService>;
