/**
 * The time-driven part of escalation, in three passes per tick:
 *   1. start: incidents without an escalation get one (policy frozen, L1 deadline from opening);
 *   2. deadlines: each due row is taken in its own transaction — the incident locked first (the
 *      same order as every other writer, so no deadlock), then the escalation row with SKIP LOCKED
 *      and re-checked — and decided by `decideDeadline`: stop, remind, page again or escalate;
 *   3. pages: pending pages are claimed with a lease, their Slack reads done (members, DM
 *      channels, thread link), and finished in one transaction that marks them done and queues
 *      the mention and DMs in the outbox, so each member gets one DM per step across replicas.
 * Deadlines are rows, so a restart (or SIGKILL) loses nothing: the next tick after start takes
 * whatever fell due meanwhile, at most one tick late.
 */
import { and, asc, eq, lte } from "drizzle-orm";
import type { Db } from "../db/index.js";
import { incidentEscalations, incidents as incidentsTable } from "../db/schema/index.js";
import { createIncidentRepository, formatRef, type Incident } from "../incidents/index.js";
import { createOutboxRepository } from "../outbox/index.js";
import { pageContext } from "./context.js";
import {
  decideDeadline,
  ESCALATION_EVENTS,
  type EscalationRow,
  formatWait,
  NO_GROUP,
  tierLabel,
  tierOf,
} from "./model.js";
import type { PageMessage } from "./ports.js";
import { createEscalationRepository, type PageRow } from "./repository.js";
import { type EscalationDeps, type EscalationService, groupRefOf, policyOfRow } from "./service.js";

/** Rows handled per pass. */
const BATCH = 50;
/** How long a claimed page is left to its claimer before another replica may take it. */
const PAGE_LEASE_MS = 30_000;
/** How long a page waits for the incident's card to go out (its thread) before going without it. */
const CARD_WAIT_MS = 60_000;

/** What one tick did. */
export interface EscalationTickResult {
  started: number;
  steps: number;
  pages: number;
}

class PageTakenError extends Error {}

/** The escalation timer and pager. */
export function createEscalationTicker(deps: EscalationDeps, service: EscalationService) {
  const { db, clock, config, notifier, directory, logger } = deps;

  async function startNew(): Promise<number> {
    const repo = createEscalationRepository(db);
    const fresh = await repo.unstarted(BATCH);
    let started = 0;
    for (const { id } of fresh) {
      await db.transaction(async (tx) => {
        const incident = await createIncidentRepository(tx).byId(id, true);
        if (!incident || incident.state === "resolved") return;
        const before = await createEscalationRepository(tx).byIncident(id);
        if (before) return;
        await service.ensureStarted(tx, incident, clock.now());
        started++;
      });
    }
    return started;
  }

  /** Lock the incident (skip it when busy: the next tick takes it), then the due escalation row. */
  async function lockDue(tx: Db, incidentId: number, now: Date) {
    const [incident] = await tx
      .select()
      .from(incidentsTable)
      .where(eq(incidentsTable.id, incidentId))
      .for("update", { skipLocked: true });
    if (!incident) return undefined;
    const [row] = await tx
      .select()
      .from(incidentEscalations)
      .where(and(eq(incidentEscalations.incidentId, incidentId), lte(incidentEscalations.nextAt, now)))
      .for("update", { skipLocked: true });
    return row ? { incident, row } : undefined;
  }

  async function step(incident: Incident, row: EscalationRow, tx: Db, now: Date): Promise<boolean> {
    const repo = createEscalationRepository(tx);
    const events = createIncidentRepository(tx);
    const policy = policyOfRow(row);
    const decision = decideDeadline(row, policy, incident, now);
    const ref = formatRef(incident.id);
    switch (decision.kind) {
      case "stop":
        await repo.update(incident.id, { nextAt: null, nextKind: null, updatedAt: now });
        return false;
      case "remind": {
        const who = incident.assignee ? `<@${incident.assignee}>` : "nobody";
        const outboxId = await notifier.note(
          tx,
          incident,
          `:alarm_clock: Reminder: ${ref} is ${incident.state} (assignee: ${who}) but not resolved yet.`,
        );
        await repo.update(incident.id, { nextAt: decision.nextAt, nextKind: "remind", updatedAt: now });
        await events.addEvent({
          incidentId: incident.id,
          at: now,
          kind: ESCALATION_EVENTS.reminded,
          actor: "timer",
          via: "schedule",
          detail: { state: incident.state, tier: row.tier },
          outboxId,
        });
        return true;
      }
      case "exhausted": {
        const outboxId = await notifier.note(
          tx,
          incident,
          `Nobody acknowledged ${ref} at ${tierLabel(row.tier)}, the last tier; escalation stops here.`,
        );
        await repo.update(incident.id, { nextAt: null, nextKind: null, updatedAt: now });
        await events.addEvent({
          incidentId: incident.id,
          at: now,
          kind: ESCALATION_EVENTS.exhausted,
          actor: "timer",
          via: "schedule",
          detail: { tier: row.tier, pages: row.pagesAtTier },
          outboxId,
        });
        await notifier.updateCard(tx, incident);
        return true;
      }
      case "repeat":
      case "escalate": {
        const stepNo = row.step + 1;
        const escalating = decision.kind === "escalate";
        await repo.update(incident.id, {
          tier: decision.tier,
          pagesAtTier: escalating ? 1 : Math.max(1, row.pagesAtTier) + 1,
          step: stepNo,
          ...(escalating ? { tierSince: now } : {}),
          nextAt: decision.nextAt,
          nextKind: decision.nextAt ? "escalate" : null,
          updatedAt: now,
        });
        const waited = tierOf(policy, row.tier).waitMs;
        await repo.addPage({
          incidentId: incident.id,
          step: stepNo,
          tier: decision.tier,
          reason: escalating ? "timeout" : "repeat",
          actor: "timer",
          note: `not acknowledged within ${formatWait(waited)}`,
          now,
        });
        if (escalating) {
          await events.addEvent({
            incidentId: incident.id,
            at: now,
            kind: ESCALATION_EVENTS.escalated,
            actor: "timer",
            via: "schedule",
            detail: {
              what: `${tierLabel(row.tier)} → ${tierLabel(decision.tier)}, not acknowledged within ${formatWait(waited)}`,
              from: row.tier,
              to: decision.tier,
              step: stepNo,
              waitedMs: waited,
              dueAt: row.nextAt,
            },
          });
          await notifier.updateCard(tx, incident);
        }
        return true;
      }
    }
  }

  async function runDeadlines(): Promise<number> {
    const now = clock.now();
    const due = await db
      .select({ id: incidentEscalations.incidentId })
      .from(incidentEscalations)
      .where(lte(incidentEscalations.nextAt, now))
      .orderBy(asc(incidentEscalations.nextAt))
      .limit(BATCH);
    let steps = 0;
    for (const { id } of due) {
      const acted = await db.transaction(async (tx) => {
        const locked = await lockDue(tx, id, now);
        if (!locked) return false;
        return step(locked.incident, locked.row, tx, now);
      });
      if (acted) steps++;
    }
    return steps;
  }

  /** Does the Slack reads of one page, then finishes it in one transaction; false when it must wait. */
  async function fanOut(page: PageRow): Promise<boolean> {
    const now = clock.now();
    const repo = createEscalationRepository(db);
    const incident = await createIncidentRepository(db).byId(page.incidentId);
    const row = await repo.byIncident(page.incidentId);
    if (!incident || !row) {
      await repo.finishPage(page.id, now, [], null);
      return false;
    }
    const policy = policyOfRow(row);
    const tier = tierOf(policy, page.tier);
    const ref = groupRefOf(config, tier.group);
    const alone = tier.group === NO_GROUP;
    const card = incident.cardOutboxId
      ? await createOutboxRepository(db).byId(incident.cardOutboxId)
      : undefined;
    const cardPending = card && (card.state === "pending" || card.state === "sending");
    if (cardPending && now.getTime() - page.createdAt.getTime() < CARD_WAIT_MS) {
      // The thread does not exist yet: try again next tick (the lease is given back at once).
      await repo.releasePage(page.id, now, null);
      return false;
    }
    let message: PageMessage;
    let dms: { user: string; channel: string }[] = [];
    try {
      // A tier with a schedule pages whoever is on call in it; the group is the audience of the
      // mention, and its members are DMed only when the schedule has nobody on call right now. A
      // schedule-only tier (`group: none`) has no group: with nobody on call, nobody is paged and
      // the timer moves on at the tier's wait.
      const groupId = alone ? null : await directory.groupId(ref);
      const onCall =
        tier.schedule && deps.onCall
          ? { schedule: tier.schedule, user: await deps.onCall(tier.schedule, now) }
          : null;
      const members = !tier.dm
        ? []
        : onCall?.user
          ? [onCall.user]
          : alone
            ? []
            : await directory.members(ref);
      for (const user of members) dms.push({ user, channel: await directory.openDm(user) });
      const threadLink =
        card?.resultTs && card.resultChannel ? await directory.link(card.resultChannel, card.resultTs) : null;
      message = {
        incident,
        page,
        group: { handle: alone ? "" : ref.handle, id: groupId, ...(alone ? { none: true } : {}) },
        threadLink,
        context: await pageContext(db, incident, page.tier),
        modelName: config.models.find((m) => m.slug === incident.model)?.name ?? incident.model,
        nextAt: row.step === page.step ? row.nextAt : null,
        onCall,
      };
    } catch (err) {
      const backoff = Math.min(30_000, 1000 * 2 ** Math.min(5, page.attempts));
      logger.warn({ err: (err as Error).message, page: page.id }, "could not prepare a page; retrying");
      await repo.releasePage(page.id, new Date(now.getTime() + backoff), (err as Error).message);
      return false;
    }
    dms = dms.filter((d, i) => dms.findIndex((x) => x.user === d.user) === i);
    try {
      await db.transaction(async (tx) => {
        const pages = createEscalationRepository(tx);
        const where = tier.channel && tier.channel !== incident.channel ? tier.channel : null;
        const mentionId = await notifier.mention(tx, message, where);
        if (
          !(await pages.finishPage(
            page.id,
            now,
            dms.map((d) => d.user),
            mentionId,
          ))
        )
          throw new PageTakenError();
        const dmIds: number[] = [];
        for (const d of dms) dmIds.push(await notifier.dm(tx, message, d.channel));
        await createIncidentRepository(tx).addEvent({
          incidentId: incident.id,
          at: now,
          kind: ESCALATION_EVENTS.paged,
          actor: "system",
          via: page.actor === "timer" ? "schedule" : "escalation",
          detail: {
            what: `${tierLabel(page.tier)}${alone ? "" : ` @${ref.handle}`}${message.onCall ? ` (on call in ${message.onCall.schedule}: ${message.onCall.user ? `<@${message.onCall.user}>` : "nobody"})` : ""}${dms.length ? `: ${dms.map((d) => `<@${d.user}>`).join(", ")}` : ""}`,
            tier: page.tier,
            step: page.step,
            ...(alone ? {} : { group: ref.handle }),
            reason: page.reason,
            by: page.actor,
            members: dms.map((d) => d.user),
            ...(message.onCall ? { schedule: message.onCall.schedule, onCall: message.onCall.user } : {}),
            dmOutboxIds: dmIds,
          },
          outboxId: mentionId,
        });
        const rules = pagerRules(tier.notify ?? [], message.onCall?.user ?? null);
        if (rules.length && deps.pagers)
          await deps.pagers.queue(tx, { incident, tier: page.tier, step: page.step, rules, now });
      });
    } catch (err) {
      if (err instanceof PageTakenError) return false;
      throw err;
    }
    return true;
  }

  /**
   * The pager rules of a page: the tier's, plus the own rules (`oncall.people`) of the person on
   * call in the tier's schedule, read when the page is sent (who is on call is only known then). A
   * person's rule replaces a tier rule with the same pager and wait, so nobody is paged twice.
   */
  function pagerRules(
    tierRules: readonly { pager: string; afterMs: number }[],
    onCall: string | null,
  ): { pager: string; afterMs: number; person?: string }[] {
    const own = onCall
      ? (config.oncall.people[onCall]?.notify ?? []).map((r) => ({
          pager: r.pager,
          afterMs: r.after,
          person: onCall,
        }))
      : [];
    const same = (a: { pager: string; afterMs: number }, b: { pager: string; afterMs: number }) =>
      a.pager === b.pager && a.afterMs === b.afterMs;
    return [...tierRules.filter((t) => !own.some((o) => same(o, t))), ...own];
  }

  async function runPages(): Promise<number> {
    const repo = createEscalationRepository(db);
    const claimed = await repo.claimPages(clock.now(), PAGE_LEASE_MS, BATCH);
    let sent = 0;
    for (const page of claimed) {
      try {
        if (await fanOut(page)) sent++;
      } catch (err) {
        logger.error({ err, page: page.id }, "a page failed; it will be tried again");
      }
    }
    return sent;
  }

  /** One pass over everything due. */
  async function tick(): Promise<EscalationTickResult> {
    const result = { started: await startNew(), steps: await runDeadlines(), pages: 0 };
    result.pages = await runPages();
    if (result.steps || result.pages) notifier.wake();
    return result;
  }

  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  return {
    tick,
    /** Ticks every `intervalMs` until stopped; a failed tick is logged and retried next time. */
    start(intervalMs = 1_000) {
      if (timer) return;
      const run = () => {
        if (running) return;
        running = tick()
          .catch((err: unknown) => logger.error({ err }, "escalation tick failed; retrying next time"))
          .finally(() => {
            running = undefined;
          });
      };
      timer = setInterval(run, intervalMs);
      run();
    },
    /** Wake now (something was escalated by hand): fan its page out without waiting for the tick. */
    poke() {
      if (!timer || running) return;
      running = runPages()
        .then((n) => {
          if (n) notifier.wake();
        })
        .catch((err: unknown) => logger.error({ err }, "escalation pages failed; retrying next tick"))
        .finally(() => {
          running = undefined;
        });
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
}

/** The escalation ticker. */
export type EscalationTicker = ReturnType<typeof createEscalationTicker>;
