/**
 * The scheduler: node-cron fires each job on every replica; each firing first claims its tick in
 * Postgres (`cron_claims`), so any number of replicas run a tick once, a job never overlaps
 * itself, and after downtime the missed ticks collapse into one catch-up run at start.
 *
 * Clock skew: a firing is keyed by the tick the cron expression names at or before the replica's
 * clock (`latestTick`), not by the firing instant, so replicas agree on the key while their clocks
 * differ by less than the interval between ticks. A replica that fires late still finds the tick
 * claimed; one whose clock runs ahead claims the tick early, which is the same tick.
 */
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import cron, { type ScheduledTask } from "node-cron";
import type { Db } from "../db/index.js";
import type { ProcessIdentity } from "../liveness/index.js";
import type { Clock } from "../shared/clock.js";
import type { Logger } from "../shared/logger.js";
import { latestTick } from "./model.js";
import { createCronClaimRepository } from "./repository.js";

/** A job: a name unique across the deployment, a cron expression (UTC) and the work for one tick. */
export interface Job {
  name: string;
  cron: string;
  /** The IANA time zone the expression is read in; UTC when absent. */
  timeZone?: string | undefined;
  run(tickAt: Date): Promise<unknown>;
}

/** What a tick attempt came to (`released`: claimed while stopping, and given back unstarted). */
export type TickResult = "ran" | "taken" | "busy" | "failed" | "none" | "released";

/**
 * A run whose claimer has no liveness row (it was claimed before heartbeats existed) is presumed
 * dead after this long. Claims of processes with a liveness row are freed within two heartbeats.
 */
export const STALE_AFTER_MS = 60 * 60_000;

/** Heartbeat assumed for claimers when the scheduler is given no liveness (tests). */
const DEFAULT_HEARTBEAT_MS = 5_000;

/**
 * Creates a scheduler. With `liveness`, claims carry this process's id and are held only while its
 * heartbeat is fresh; `instanceId` names the replica otherwise (tests).
 */
export function createScheduler(deps: {
  db: Db;
  clock: Clock;
  logger: Logger;
  instanceId?: string | undefined;
  liveness?: ProcessIdentity | undefined;
}) {
  const claims = createCronClaimRepository(deps.db);
  const me =
    deps.liveness?.id ?? deps.instanceId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
  const heartbeatMs = deps.liveness?.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  const jobs = new Map<string, Job>();
  const tasks: ScheduledTask[] = [];
  const inFlight = new Set<Promise<unknown>>();
  let stopped = false;

  /** Claims `tickAt` for the job and, when this replica got it, runs it. */
  async function claimTick(job: Job, tickAt: Date): Promise<TickResult> {
    const now = deps.clock.now();
    const claim = await claims.claim(
      job.name,
      tickAt,
      me,
      now,
      new Date(now.getTime() - STALE_AFTER_MS),
      heartbeatMs,
    );
    if (claim !== "claimed") return claim;
    if (stopped) {
      // Stopping: give the tick back unstarted rather than leave it claimed by a process on its way out.
      await claims.release(job.name, tickAt);
      return "released";
    }
    try {
      await job.run(tickAt);
      await claims.finish(job.name, tickAt, deps.clock.now(), "ok");
      return "ran";
    } catch (err) {
      deps.logger.error({ err, job: job.name, tickAt }, "scheduled job failed");
      await claims
        .finish(job.name, tickAt, deps.clock.now(), `failed: ${(err as Error).message}`)
        .catch(() => {});
      return "failed";
    }
  }

  /** Runs the job's latest due tick unless it is claimed already. */
  async function tick(name: string): Promise<TickResult> {
    const job = jobs.get(name);
    if (!job) throw new Error(`no job ${name}`);
    const at = latestTick(job.cron, deps.clock.now(), job.timeZone);
    if (!at) return "none";
    const p = claimTick(job, at);
    inFlight.add(p);
    try {
      return await p;
    } finally {
      inFlight.delete(p);
    }
  }

  return {
    instanceId: me,
    add(job: Job): void {
      if (jobs.has(job.name)) throw new Error(`job ${job.name} is added twice`);
      jobs.set(job.name, job);
    },
    tick,
    claimTick: (name: string, tickAt: Date) => {
      const job = jobs.get(name);
      if (!job) throw new Error(`no job ${name}`);
      return claimTick(job, tickAt);
    },
    /**
     * Starts the cron timers, then (in the background, so start-up is not held up) runs one
     * catch-up tick for each job that missed ticks while no replica ran.
     */
    start(): void {
      for (const job of jobs.values()) {
        const task = cron.schedule(
          job.cron,
          () => {
            if (stopped) return;
            void tick(job.name).catch((err: unknown) =>
              deps.logger.error({ err, job: job.name }, "tick failed"),
            );
          },
          { name: job.name, timezone: job.timeZone ?? "Etc/UTC" },
        );
        tasks.push(task);
      }
      const catchUp = (async () => {
        for (const job of jobs.values()) {
          if (stopped) return;
          const last = await claims.lastTick(job.name);
          const due = latestTick(job.cron, deps.clock.now(), job.timeZone);
          if (last && due && due.getTime() > last.getTime()) {
            deps.logger.info({ job: job.name, missedSince: last, tick: due }, "catching up one missed tick");
            await tick(job.name);
          }
        }
      })().catch((err: unknown) => deps.logger.error({ err }, "catch-up failed"));
      inFlight.add(catchUp);
      void catchUp.finally(() => inFlight.delete(catchUp));
    },
    /** Stops the timers and waits for runs in progress. */
    async stop(): Promise<void> {
      stopped = true;
      for (const t of tasks) await t.destroy();
      tasks.length = 0;
      await Promise.allSettled([...inFlight]);
    },
    claims,
  };
}

/** A scheduler. */
export type Scheduler = ReturnType<typeof createScheduler>;
