import { Counter, Histogram, type Registry } from "prom-client";
import type { Db } from "../db/index.js";
import type { ProcessIdentity } from "../liveness/index.js";
import type { Clock } from "../shared/clock.js";
import type { Logger } from "../shared/logger.js";
import {
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
  /** This process: claims carry its id, and rows claimed by processes that missed their heartbeats are taken back at once. */
  liveness?: ProcessIdentity | undefined;
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
}

function outboxMetrics(registry: Registry | undefined) {
  if (!registry) return undefined;
  return {
    deliveries: new Counter({
      name: "mlops_outbox_deliveries_total",
      help: "Outbox delivery attempts by Slack method and outcome (delivered, rate_limited, unavailable, rejected)",
      labelNames: ["method", "outcome"],
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
 * 5xx and network errors (with backoff). A row is marked sent only by the claim holder, so it is
 * never sent twice by two dispatchers; after a crash its claim expires and it is sent again (the one
 * case where Slack may see it twice is a crash between Slack's answer and the commit).
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
  const metrics = outboxMetrics(deps.registry);

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
    if (row.method !== "chat.postMessage" || !transport.findDelivered || !previousAttemptUnknown(row))
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
    switch (outcome.kind) {
      case "delivered":
        await repo.markSent(row.id, now, outcome);
        metrics?.latency.observe({ method: row.method }, (now.getTime() - row.createdAt.getTime()) / 1000);
        return;
      case "rate_limited":
        logger.warn(
          { outboxId: row.id, channel: row.channel, retryAfterMs: outcome.retryAfterMs },
          "Slack rate-limited a write; waiting as asked",
        );
        await repo.reschedule(
          row.id,
          new Date(now.getTime() + outcome.retryAfterMs),
          "rate limited (HTTP 429)",
        );
        return;
      case "unavailable": {
        const delay = retryDelayMs(row.attempts);
        logger.warn(
          { outboxId: row.id, attempts: row.attempts, retryInMs: delay, err: outcome.error },
          "Slack write failed; will retry",
        );
        await repo.reschedule(row.id, new Date(now.getTime() + delay), outcome.error);
        return;
      }
      case "rejected":
        logger.error(
          { outboxId: row.id, method: row.method, channel: row.channel, err: outcome.error },
          "Slack refused a write; it will not be retried",
        );
        await repo.markFailed(row.id, outcome.error);
        return;
    }
  }

  async function tick(): Promise<number> {
    const now = clock.now();
    if (now.getTime() - lastRelease >= releaseEveryMs) {
      lastRelease = now.getTime();
      const released = await repo.releaseExpired(now, options.liveness);
      if (released) logger.warn({ released }, "took back outbox rows whose sender stopped");
    }
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
        await sleep(pollMs);
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
  };
}
