/**
 * The heartbeat of one bot process. Claims it takes (cron ticks, outbox rows, runbook runs) carry
 * its id; every other replica treats them as held only while this row's heartbeat is fresh, so a
 * process killed by SIGKILL, the OOM killer or a lost host frees its claims within two heartbeats
 * instead of after the long leases that guard against slow live holders.
 *
 * Clock: heartbeats are written and compared with the database's `now()`, so replicas whose clocks
 * disagree still agree on who is alive. A live process that cannot beat for two heartbeats (a
 * stalled event loop, a lost database connection) is taken for dead: its work may then run twice,
 * which every claimed job tolerates (monitor runs are idempotent records; outbox rows look in Slack
 * before posting again; runbook runs are reported interrupted).
 */
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Db } from "../db/index.js";
import type { Logger } from "../shared/logger.js";
import { PRUNE_AFTER_MS, type ProcessIdentity } from "./model.js";
import { createProcessRepository } from "./repository.js";

/** A process's liveness row and its heartbeat timer. */
export interface Liveness extends ProcessIdentity {
  /** Writes the row and starts beating; on PGlite also marks every earlier process dead. */
  start(): Promise<void>;
  /** One heartbeat now (the timer calls it). */
  beat(): Promise<void>;
  /** Stops beating and deletes the row (graceful shutdown: this process holds nothing any more). */
  stop(): Promise<void>;
}

/** Creates the liveness of this process. */
export function createLiveness(deps: {
  db: Db;
  logger: Logger;
  heartbeatMs: number;
  /** PGlite serves one process: rows left by earlier processes are dead at start. */
  singleProcess?: boolean;
  id?: string;
}): Liveness {
  const host = hostname();
  const id = deps.id ?? `${host}:${process.pid}:${randomBytes(4).toString("hex")}`;
  const repo = createProcessRepository(deps.db);
  const logger = deps.logger.child({ component: "liveness" });
  let timer: NodeJS.Timeout | undefined;
  let beating: Promise<void> | undefined;
  let beats = 0;

  async function beat(): Promise<void> {
    const found = await repo.beat(id, host, process.pid);
    if (!found) logger.warn({ process: id }, "this process's liveness row was missing; written again");
    // Now and then, forget processes that died long ago.
    if (++beats % 720 === 1) await repo.prune(PRUNE_AFTER_MS);
  }

  return {
    id,
    heartbeatMs: deps.heartbeatMs,
    async start() {
      await repo.register(id, host, process.pid);
      if (deps.singleProcess) {
        const expired = await repo.expireOthers(id);
        if (expired) logger.info({ expired }, "processes that used this data directory before are dead");
      }
      timer ??= setInterval(() => {
        if (beating) return; // the previous beat still waits for the database
        beating = beat()
          .catch((err: unknown) => logger.warn({ err }, "could not record the heartbeat"))
          .finally(() => {
            beating = undefined;
          });
      }, deps.heartbeatMs);
      timer.unref();
    },
    beat,
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await beating;
      await repo
        .remove(id)
        .catch((err: unknown) => logger.warn({ err }, "could not remove the liveness row"));
    },
  };
}
