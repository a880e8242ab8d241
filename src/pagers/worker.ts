/**
 * The pager worker: claims due pager calls with a lease, makes each outside any transaction, then
 * records the outcome and its timeline event in one transaction (or schedules a retry). Each tick
 * first queues what providers have not been told yet (an incident acknowledged or resolved in
 * Slack after its pager was triggered). It runs beside the Slack page, never before it: the page is
 * already in the outbox when a trigger is queued, so a provider's outage holds nothing up.
 */
import { createIncidentRepository, type Incident } from "../incidents/index.js";
import { PAGER_EVENTS, pagerLabel, pagerRetryDelayMs } from "./model.js";
import { buildRequest, type PagerOutcome, sendRequest } from "./providers.js";
import { createPagerRepository, type PagerCall } from "./repository.js";
import type { PagerDeps } from "./service.js";

/** Calls claimed per pass. */
const BATCH = 20;
/** A claim's lease: longer than a call's timeout, so a live call is never taken back. */
const LEASE_MS = 60_000;

/** Makes due pager calls. */
export function createPagerWorker(deps: Pick<PagerDeps, "db" | "clock" | "config" | "logger">) {
  const { db, clock, config, logger } = deps;

  /** The follow-ups (acknowledge, resolve) the providers are owed, queued now. */
  async function queueFollowUps(): Promise<number> {
    const repo = createPagerRepository(db);
    const owed = await repo.pendingFollowUps(clock.now(), BATCH);
    for (const f of owed)
      await repo.add(
        f.model,
        { incidentId: f.incidentId, ref: f.ref, pager: f.pager, action: f.action },
        clock.now(),
      );
    return owed.length;
  }

  /** Why a trigger is not sent any more, or null. */
  function skipReason(call: PagerCall, incident: Incident): string | null {
    if (call.payload.action !== "trigger") return null;
    if (incident.state === "resolved") return "resolved";
    // A rule with a wait pages only while nobody has answered ("phone after 5 min if not acknowledged").
    if ((call.payload.afterMs ?? 0) > 0 && incident.state !== "open") return incident.state;
    return null;
  }

  async function execute(call: PagerCall): Promise<void> {
    const name = call.payload.pager;
    const pager = config.pagers[name];
    const incident = await createIncidentRepository(db).byId(call.payload.incidentId);
    let outcome: PagerOutcome | { skipped: string };
    if (!pager || !incident) {
      outcome = {
        ok: false,
        retry: false,
        error: !pager ? `no pager '${name}' in the config` : "no such incident",
      };
    } else {
      const skipped = skipReason(call, incident);
      outcome = skipped
        ? { skipped }
        : await sendRequest(
            buildRequest(
              pager,
              {
                incident,
                ref: call.payload.ref,
                action: call.payload.action,
                tier: call.payload.tier,
                person: call.payload.person,
              },
              clock.now(),
            ),
            clock.now(),
          );
    }
    if ("ok" in outcome && !outcome.ok)
      logger.warn({ call: call.id, pager: name, err: outcome.error }, "pager call failed");
    const label = pager ? pagerLabel(name, pager) : name;
    await db.transaction(async (tx) => {
      const repo = createPagerRepository(tx);
      const locked = await repo.byId(call.id, true);
      if (locked?.state !== "calling" || !incident) {
        if (locked?.state === "calling") await repo.update(call.id, { state: "failed", doneAt: clock.now() });
        return;
      }
      const now = clock.now();
      const events = createIncidentRepository(tx);
      const base = { incidentId: incident.id, at: now, actor: "system", via: "pager" as const };
      const person = call.payload.person;
      const common = {
        pager: name,
        action: call.payload.action,
        attempts: locked.attempts,
        ...(person ? { person } : {}),
      };
      // A person's own rule says whose it is, in the timeline as in the review.
      const whose = person ? ` (<@${person}>'s own rule)` : "";
      if ("skipped" in outcome) {
        await repo.update(call.id, {
          state: "done",
          result: { skipped: outcome.skipped },
          doneAt: now,
          leaseUntil: null,
        });
        await events.addEvent({
          ...base,
          kind: PAGER_EVENTS.skipped,
          detail: {
            ...common,
            what: `${label}${whose} not paged: the incident was ${outcome.skipped} first`,
          },
        });
      } else if (outcome.ok) {
        await repo.update(call.id, { state: "done", result: outcome.result, doneAt: now, leaseUntil: null });
        const tier = call.payload.tier ? ` for L${call.payload.tier}` : "";
        await events.addEvent({
          ...base,
          kind: PAGER_EVENTS.sent,
          detail: {
            ...common,
            what: `${label}: ${call.payload.action}${tier}${whose} accepted`,
            provider: pager?.type,
            ...outcome.result,
          },
        });
      } else {
        const final = !outcome.retry || locked.attempts >= locked.maxAttempts;
        const nextAt = new Date(now.getTime() + pagerRetryDelayMs(locked.attempts, outcome.retryAfterMs));
        await repo.update(call.id, {
          state: final ? "failed" : "pending",
          lastError: outcome.error.slice(0, 1000),
          ...(final ? { doneAt: now } : { availableAt: nextAt, leaseUntil: null }),
        });
        await events.addEvent({
          ...base,
          kind: PAGER_EVENTS.failed,
          detail: {
            ...common,
            what: `${label}: ${call.payload.action}${whose} failed (${outcome.error.slice(0, 200)})${final ? "; given up" : `; retrying at ${nextAt.toISOString()}`}`,
            error: outcome.error.slice(0, 300),
            final,
            ...(final ? {} : { retryAt: nextAt.toISOString() }),
          },
        });
      }
    });
  }

  /** Queues follow-ups, then makes the due calls (in parallel); the number of calls made. */
  async function tick(): Promise<number> {
    await queueFollowUps();
    const calls = await createPagerRepository(db).claimDue(clock.now(), LEASE_MS, BATCH);
    await Promise.all(
      calls.map((c) =>
        execute(c).catch((err: unknown) =>
          logger.error({ err, call: c.id }, "could not record a pager call"),
        ),
      ),
    );
    return calls.length;
  }

  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  const run = () => {
    if (running) return;
    running = tick()
      .catch((err: unknown) => logger.error({ err }, "pager tick failed; retrying next time"))
      .finally(() => {
        running = undefined;
      });
  };
  return {
    tick,
    /** Ticks every `intervalMs` until stopped. */
    start(intervalMs = 1_000) {
      if (timer) return;
      timer = setInterval(run, intervalMs);
      run();
    },
    /** Ticks now (a call was just queued). */
    wake() {
      if (timer) run();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
}

/** The pager worker. */
export type PagerWorker = ReturnType<typeof createPagerWorker>;
