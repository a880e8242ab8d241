/**
 * Fetching schedules from their URLs: once at start (without holding the start up) and then every
 * `ical.refresh_every`. Each process fetches for itself and keeps its own last good copy (memory
 * and a file in the data directory), because the copy is not in the database yet; that costs one
 * request per replica per interval, and no replica depends on another being up.
 */
import type { MlopsConfig } from "../config/index.js";
import type { Logger } from "../shared/logger.js";
import type { OnCallService } from "./service.js";

/** Starts and stops the refresh timers of URL schedules. */
export interface CalendarRefresher {
  start(): void;
  stop(): void;
  /** Fetches every URL schedule now; resolves when all have answered or failed. */
  refreshAll(): Promise<void>;
}

/** Creates the refresher for the config's URL schedules. */
export function createCalendarRefresher(deps: {
  oncall: Pick<OnCallService, "refresh" | "remoteStatus">;
  config: MlopsConfig;
  logger: Logger;
}): CalendarRefresher {
  const remote = Object.entries(deps.config.schedules).flatMap(([name, s]) =>
    s.ical?.url ? [{ name, everyMs: s.ical.refresh_every }] : [],
  );
  const timers: NodeJS.Timeout[] = [];
  let stopped = false;

  async function refresh(name: string): Promise<void> {
    if (stopped) return;
    const ok = await deps.oncall.refresh(name);
    const status = deps.oncall.remoteStatus().find((s) => s.schedule === name);
    if (ok) deps.logger.info({ schedule: name }, "schedule fetched");
    else
      deps.logger.warn(
        { schedule: name, error: status?.error?.message },
        "could not fetch the schedule; keeping its last good copy",
      );
  }

  return {
    start() {
      stopped = false;
      for (const { name, everyMs } of remote) {
        void refresh(name);
        const timer = setInterval(() => void refresh(name), everyMs);
        timer.unref();
        timers.push(timer);
      }
    },
    stop() {
      stopped = true;
      for (const t of timers.splice(0)) clearInterval(t);
    },
    async refreshAll() {
      await Promise.all(remote.map(({ name }) => refresh(name)));
    },
  };
}
