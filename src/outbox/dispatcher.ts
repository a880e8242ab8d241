import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { Db } from "../db/index.js";
import type { ProcessIdentity } from "../liveness/index.js";
import type { Clock } from "../shared/clock.js";
import type { Logger } from "../shared/logger.js";
import {
  CLAIM_LOST_PREFIX,
  type OutboxRow,
  type Pacing,
  previousAttemptUnknown,
  retryDelayMs,
  SLACK_CHANNEL_PACING,
} from "./model.js";
import type { Delivery, DeliveryOutcome, OutboxTransport } from "./ports.js";
import { createOutboxRepository } from "./repository.js";

/** Tuning of one dispatcher; the defaults suit Slack. */
export interface DispatcherOptions {
  /** Writes in flight at once (each to a different stream). */
  concurrency?: number;
  /** How long a claim lasts; must exceed the transport's timeout so a live send is never taken back. */
  leaseMs?: number;
  /** Idle poll: the longest a due row waits when no wake-up arrives (PGlite, other replicas). */
  pollMs?: number;
  pacing?: Pacing;
  /** How often claims whose lease ran out are taken back. */
  releaseEveryMs?: number;
  /** Take back claims left by a dead process at start: only when no other process shares the database. */
  releaseClaimsAtStart?: boolean;
  /** Attempts (5xx, network errors, timeouts) before a row becomes a dead letter (`outbox.max_attempts`). */
  maxAttempts?: number;
  /** While paused by a workspace-wide error: how often `auth.test` is tried. */
  probeEveryMs?: number;
  /** This process: claims carry its id, and rows claimed by processes that missed their heartbeats are taken back at once. */
  liveness?: ProcessIdentity | undefined;
}

/** Why the dispatcher is not delivering, for /readyz and the log. */
export interface OutboxPause {
  /** Slack's error code, e.g. `token_revoked`. */
  code: string;
  /** What to do about it. */
  fix: string;
  since: Date;
  /** The last probe's answer, when one failed. */
  probe?: string;
}

/** What the dispatcher needs. */
export interface DispatcherDeps {
  db: Db;
  transport: OutboxTransport;
  clock: Clock;
  logger: Logger;
  registry?: Registry;
}

/** A running delivery loop. */
export interface OutboxDispatcher {
  start(): Promise<void>;
  /** Something was queued: look now instead of at the next poll. */
  wake(): void;
  /** Stops claiming, waits for the writes in flight, and returns. */
  stop(): Promise<void>;
  /** Set while a workspace-wide Slack error (bad token, missing scope) holds every delivery back. */
  paused(): OutboxPause | undefined;
}

/** What an operator must do about a workspace-wide Slack error. */
export function fixFor(code: string): string {
  switch (code) {
    case "missing_scope":
      return "the Slack app lacks an OAuth scope a write needs: add it (see slack-manifest.yaml), reinstall the app and, if the token changed, update SLACK_BOT_TOKEN";
    case "account_inactive":
      return "the bot user or the workspace was deactivated: reinstall the Slack app and set SLACK_BOT_TOKEN to its new token";
    default:
      return "Slack no longer accepts SLACK_BOT_TOKEN: reinstall the Slack app or issue a new token, set SLACK_BOT_TOKEN and restart";
  }
}

function outboxMetrics(registry: Registry | undefined) {
  if (!registry) return undefined;
  return {
    deliveries: new Counter({
      name: "mlops_outbox_deliveries_total",
      help: "Outbox delivery attempts by Slack method and outcome (delivered, rate_limited, unavailable, rejected, workspace_error)",
      labelNames: ["method", "outcome"],
      registers: [registry],
    }),
    pauses: new Counter({
      name: "mlops_outbox_pauses_total",
      help: "Times delivery paused because Slack refused the bot itself (invalid_auth, token_revoked, missing_scope…), by error",
      labelNames: ["code"],
      registers: [registry],
    }),
    paused: new Gauge({
      name: "mlops_outbox_paused",
      help: "1 while delivery is paused by a workspace-wide Slack error, else 0",
      registers: [registry],
    }),
    deadLetters: new Counter({
      name: "mlops_outbox_dead_letters_total",
      help: "Outbox rows given up on after outbox.max_attempts attempts",
      labelNames: ["method"],
      registers: [registry],
    }),
    latency: new Histogram({
      name: "mlops_outbox_delivery_seconds",
      help: "Time from queuing a Slack write to its delivery",
      labelNames: ["method"],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 15, 60, 300],
      registers: [registry],
    }),
  };
}

/**
 * Delivers the outbox: claims due rows (one per stream, so each channel and thread is delivered in
 * order), sends them, stores the returned `ts`, and reschedules on 429 (after Retry-After) or on
 * 5xx and network errors (with backoff, up to `maxAttempts`, then a dead letter). Every state
 * change is fenced by the claim, so a sender whose lease ran out cannot undo another's delivery;
 * after a crash the claim expires and the row is sent again (the one case where Slack may see it
 * twice is a crash between Slack's answer and the commit). A workspace-wide refusal (bad token,
 * missing scope) pauses delivery, failing nothing, until `auth.test` succeeds again; a 429 on a
 * method Slack limits per workspace holds that method back for every row and replica.
 */
export function createOutboxDispatcher(
  deps: DispatcherDeps,
  options: DispatcherOptions = {},
): OutboxDispatcher {
  const { db, transport, clock } = deps;
  const logger = deps.logger.child({ component: "outbox" });
  const repo = createOutboxRepository(db);
  const concurrency = options.concurrency ?? 8;
  const leaseMs = options.leaseMs ?? 60_000;
  const pollMs = options.pollMs ?? 250;
  const pacing = options.pacing ?? SLACK_CHANNEL_PACING;
  const releaseEveryMs = options.releaseEveryMs ?? 5_000;
  const maxAttempts = options.maxAttempts ?? 10;
  const probeEveryMs = options.probeEveryMs ?? 30_000;
  const metrics = outboxMetrics(deps.registry);
  let pause: OutboxPause | undefined;
  let lastProbe = 0;

  const inflight = new Set<Promise<void>>();
  let running = false;
  let loop: Promise<void> | undefined;
  let woken = false;
  let wakeUp: (() => void) | undefined;
  let lastRelease = 0;

  function wake(): void {
    woken = true;
    wakeUp?.();
  }

  function sleep(ms: number): Promise<void> {
    if (woken) {
      woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wakeUp = undefined;
        woken = false;
        resolve();
      }
      wakeUp = done;
    });
  }

  async function delivery(row: OutboxRow): Promise<Delivery | { error: string }> {
    const base = {
      outboxId: row.id,
      method: row.method as Delivery["method"],
      channel: row.channel,
      payload: row.payload,
    };
    if (row.parentId === null) return base;
    const [parent] = await repo.byIds([row.parentId]);
    if (!parent?.resultTs) {
      // The parent was refused for good: a reply still goes out (top level), an edit cannot.
      if (row.method === "chat.update")
        return { error: `the message to edit (outbox ${row.parentId}) was never delivered` };
      return base;
    }
    if (row.method === "chat.update")
      return { ...base, channel: parent.resultChannel ?? row.channel, ts: parent.resultTs };
    return { ...base, channel: parent.resultChannel ?? row.channel, threadTs: parent.resultTs };
  }

  /**
   * A post whose last sender died holding the claim may already be in Slack: look before posting
   * again, so a crash between Slack's answer and the commit does not post it twice. Edits need no
   * look (sending the same content again changes nothing). When Slack cannot be asked, post anyway:
   * a duplicate is better than a lost alert.
   */
  async function alreadyDelivered(row: OutboxRow, prepared: Delivery): Promise<DeliveryOutcome | undefined> {
    if (
      (row.method !== "chat.postMessage" && row.method !== "files.uploadV2") ||
      !transport.findDelivered ||
      !previousAttemptUnknown(row)
    )
      return undefined;
    try {
      const target = prepared.threadTs
        ? prepared
        : { ...prepared, channel: (await repo.deliveredChannelId(row.channel)) ?? row.channel };
      const found = await transport.findDelivered(target, new Date(row.createdAt.getTime() - 60_000));
      if (!found) return undefined;
      logger.info(
        { outboxId: row.id, ts: found.ts },
        "a post from before a restart had reached Slack; not posting it again",
      );
      return { kind: "delivered", ts: found.ts, channel: found.channel };
    } catch (err) {
      logger.warn(
        { outboxId: row.id, err: (err as Error).message },
        "could not check Slack for an earlier post; posting",
      );
      return undefined;
    }
  }

  async function deliver(row: OutboxRow): Promise<void> {
    let outcome: DeliveryOutcome;
    const prepared = await delivery(row);
    const earlier = "error" in prepared ? undefined : await alreadyDelivered(row, prepared);
    if ("error" in prepared) outcome = { kind: "rejected", error: prepared.error };
    else if (earlier) outcome = earlier;
    else {
      try {
        outcome = await transport.deliver(prepared);
      } catch (err) {
        outcome = { kind: "unavailable", error: (err as Error).message };
      }
    }
    const now = clock.now();
    metrics?.deliveries.inc({ method: row.method, outcome: outcome.kind });
    // A retry keeps the mark of an earlier attempt whose outcome is unknown (its sender died), so the
    // next sender still looks in Slack before posting: this attempt's 429, 503 or pause says
    // nothing about whether that earlier one landed.
    const note = (error: string) =>
      previousAttemptUnknown(row) ? `${CLAIM_LOST_PREFIX}lost earlier; since then: ${error}` : error;
    let applied: boolean;
    switch (outcome.kind) {
      case "delivered":
        applied = await repo.markSent(row, now, outcome);
        if (applied)
          metrics?.latency.observe({ method: row.method }, (now.getTime() - row.createdAt.getTime()) / 1000);
        break;
      case "rate_limited": {
        const perWorkspace = row.method !== "chat.postMessage";
        logger.warn(
          { outboxId: row.id, method: row.method, channel: row.channel, retryAfterMs: outcome.retryAfterMs },
          perWorkspace
            ? `Slack rate-limited ${row.method} for the workspace; holding every ${row.method} back as asked`
            : "Slack rate-limited a write; waiting as asked",
        );
        // chat.postMessage is limited per channel (the channel's later rows wait behind this one);
        // the other methods per workspace, so the hold applies to all their rows on every replica.
        if (perWorkspace) await repo.holdMethod(row.method, outcome.retryAfterMs, "rate limited (HTTP 429)");
        applied = await repo.reschedule(
          row,
          new Date(now.getTime() + outcome.retryAfterMs),
          note("rate limited (HTTP 429)"),
          { counted: false },
        );
        break;
      }
      case "unavailable": {
        if (row.attempts >= maxAttempts) {
          logger.error(
            {
              outboxId: row.id,
              method: row.method,
              channel: row.channel,
              attempts: row.attempts,
              err: outcome.error,
            },
            "Slack write failed too often; moved to the dead letters (/mlops outbox to retry or drop it)",
          );
          applied = await repo.markFailed(row, `after ${row.attempts} attempts: ${outcome.error}`, "dead");
          if (applied) metrics?.deadLetters.inc({ method: row.method });
          break;
        }
        const delay = retryDelayMs(row.attempts);
        logger.warn(
          { outboxId: row.id, attempts: row.attempts, retryInMs: delay, err: outcome.error },
          "Slack write failed; will retry",
        );
        applied = await repo.reschedule(row, new Date(now.getTime() + delay), note(outcome.error));
        break;
      }
      case "workspace_error":
        pauseFor(outcome.code, outcome.error);
        applied = await repo.reschedule(row, now, note(`paused: ${outcome.error}`), { counted: false });
        break;
      case "rejected":
        logger.error(
          { outboxId: row.id, method: row.method, channel: row.channel, err: outcome.error },
          "Slack refused a write; it will not be retried",
        );
        applied = await repo.markFailed(row, outcome.error);
        break;
    }
    if (!applied)
      logger.warn(
        { outboxId: row.id, outcome: outcome.kind },
        "an outbox row's claim ran out before its outcome was recorded; another sender has it, leaving it alone",
      );
  }

  function pauseFor(code: string, error: string): void {
    if (pause) return;
    pause = { code, fix: fixFor(code), since: clock.now() };
    lastProbe = Date.now();
    metrics?.pauses.inc({ code });
    metrics?.paused.set(1);
    logger.error(
      { code, err: error, fix: pause.fix },
      `Slack refused the bot (${code}): outbox delivery is paused, nothing is failed; fix: ${pause.fix}`,
    );
  }

  /** While paused: asks Slack every `probeEveryMs` whether the bot is accepted again. */
  async function probe(): Promise<void> {
    if (!pause || Date.now() - lastProbe < probeEveryMs) return;
    lastProbe = Date.now();
    try {
      if (!transport.probe) throw new Error("the transport cannot probe Slack");
      await transport.probe();
    } catch (err) {
      pause.probe = (err as Error).message;
      logger.warn({ code: pause.code, err: pause.probe }, "Slack still refuses the bot; outbox stays paused");
      return;
    }
    logger.info(
      { code: pause.code, pausedSince: pause.since },
      "Slack accepts the bot again; outbox delivery resumes",
    );
    pause = undefined;
    metrics?.paused.set(0);
  }

  async function tick(): Promise<number> {
    // Wall time, not the injected clock: these intervals are about this process, not the schedule.
    if (Date.now() - lastRelease >= releaseEveryMs) {
      lastRelease = Date.now();
      const released = await repo.releaseExpired(options.liveness);
      if (released) logger.warn({ released }, "took back outbox rows whose sender stopped");
    }
    if (pause) await probe();
    if (pause) return 0;
    const now = clock.now();
    const free = concurrency - inflight.size;
    if (free <= 0) return 0;
    const rows = await repo.claim({ now, limit: free, leaseMs, pacing, by: options.liveness?.id });
    for (const row of rows) {
      const p: Promise<void> = deliver(row)
        .catch((err: unknown) =>
          logger.error({ err, outboxId: row.id }, "could not record an outbox delivery"),
        )
        .finally(() => {
          inflight.delete(p);
          wake();
        });
      inflight.add(p);
    }
    return rows.length;
  }

  async function run(): Promise<void> {
    let failures = 0;
    while (running) {
      try {
        const claimed = await tick();
        failures = 0;
        if (claimed > 0 && inflight.size < concurrency) continue;
        await sleep(pause ? Math.min(pollMs * 4, probeEveryMs) : pollMs);
      } catch (err) {
        failures++;
        if (!running) break;
        logger.error({ err }, "outbox dispatcher could not reach the database; retrying");
        await sleep(Math.min(5_000, 200 * 2 ** failures));
      }
    }
  }

  return {
    async start() {
      if (running) return;
      if (options.releaseClaimsAtStart) {
        const released = await repo.releaseAllClaims();
        if (released) logger.warn({ released }, "took back outbox rows claimed by a process that stopped");
      }
      running = true;
      loop = run();
    },
    wake,
    async stop() {
      running = false;
      wake();
      await loop;
      await Promise.allSettled([...inflight]);
    },
    paused: () => (pause ? { ...pause } : undefined),
  };
}
