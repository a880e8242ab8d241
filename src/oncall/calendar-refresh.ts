/**
 * Schedules fetched from an iCal URL, refreshed on a claimed tick: each minute one replica (the
 * one that claims the tick) fetches the URL schedules that are due, and stores a good feed in
 * `oncall_calendars`; every replica then loads the stored copy (`sync`), so all of them and a
 * restart answer from the same last good copy, and the URL is asked once per interval whatever
 * the number of replicas. A feed that fails (unreachable, not iCalendar, no events) leaves the
 * stored copy alone; the first failure of a streak is alerted in the alert channel, and so is the
 * recovery.
 */
import type { MlopsConfig } from "../config/index.js";
import type { Db } from "../db/index.js";
import type { Logger } from "../shared/logger.js";
import { type CalendarRow, createCalendarRepository } from "./calendar-repository.js";
import type { CalendarAlert, CalendarFetcher } from "./ports.js";
import type { OnCallService } from "./service.js";

/** The refresh tick's cron: every minute; each schedule is fetched when its `refresh_every` is up. */
export const CALENDAR_REFRESH_CRON = "* * * * *";
/** While a feed fails it is tried again this often at most (or every `refresh_every`, if shorter). */
export const FAILING_RETRY_MS = 5 * 60_000;

/** What the refresh needs. */
export interface CalendarRefreshDeps {
  db: Db;
  config: Pick<MlopsConfig, "schedules">;
  logger: Logger;
  oncall: Pick<OnCallService, "parseCopy" | "useCopy" | "setRemoteStatus">;
  fetchCalendar: CalendarFetcher;
  /** Queues a message to the alert channel in `tx`. */
  alert: CalendarAlert;
}

/** What one tick did to one schedule. */
export interface RefreshOutcome {
  schedule: string;
  outcome: "fetched" | "unchanged" | "failed";
  error?: string;
}

/** `Mon 9 Mar 08:30 UTC`, a time in an alert (read by people in any zone). */
function utc(d: Date): string {
  return `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** The host of a URL, the only part an alert shows (the rest may hold a token). */
function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "its URL";
  }
}

/** Creates the refresh: `run(tickAt)` is the claimed job, `sync()` each replica's load. */
export function createCalendarRefresh(deps: CalendarRefreshDeps) {
  const remote = Object.entries(deps.config.schedules).flatMap(([name, s]) =>
    s.ical?.url ? [{ name, url: s.ical.url, everyMs: s.ical.refresh_every }] : [],
  );
  /** The `fetched_at` of the copy this replica answers from, per schedule. */
  const loaded = new Map<string, number>();

  /** Loads the stored copies that changed since the last call, and everyone's fetch status. */
  async function sync(): Promise<void> {
    if (!remote.length) return;
    const rows = new Map((await createCalendarRepository(deps.db).all()).map((r) => [r.schedule, r]));
    for (const { name } of remote) {
      const row = rows.get(name);
      if (!row) continue;
      const version = row.fetchedAt?.getTime();
      if (row.text && version !== undefined && loaded.get(name) !== version) {
        try {
          deps.oncall.useCopy(deps.oncall.parseCopy(name, row.text));
        } catch (err) {
          // Only good copies are stored; one that no longer parses (a config change) is skipped.
          deps.logger.warn({ schedule: name, err: (err as Error).message }, "stored calendar unusable");
        }
        loaded.set(name, version);
      }
      deps.oncall.setRemoteStatus({
        schedule: name,
        fetchedAt: row.fetchedAt,
        staleSince: row.failingSince,
        error: row.failingSince ? { at: row.checkedAt, message: row.lastError ?? "failed" } : null,
      });
    }
  }

  function due(row: CalendarRow | undefined, everyMs: number, tickAt: Date): boolean {
    if (!row) return true;
    const wait = row.failingSince ? Math.min(everyMs, FAILING_RETRY_MS) : everyMs;
    return row.checkedAt.getTime() + wait <= tickAt.getTime();
  }

  async function refreshOne(
    s: (typeof remote)[number],
    row: CalendarRow | undefined,
    now: Date,
  ): Promise<RefreshOutcome> {
    let error: string;
    try {
      const got = await deps.fetchCalendar(s.url, row?.text ? row.etag : null);
      await deps.db.transaction(async (tx) => {
        const repo = createCalendarRepository(tx);
        if (got.notModified) await repo.recordGood(s.name, now);
        else {
          deps.oncall.parseCopy(s.name, got.text);
          await repo.recordGood(s.name, now, { text: got.text, etag: got.etag });
        }
        if (row?.failingSince)
          await deps.alert(
            tx,
            `:white_check_mark: On-call schedule *${s.name}* could be fetched again from ${hostOf(s.url)}; it was stale since ${utc(row.failingSince)}.`,
          );
      });
      return { schedule: s.name, outcome: got.notModified ? "unchanged" : "fetched" };
    } catch (err) {
      error = (err as Error).message.slice(0, 500);
    }
    await deps.db.transaction(async (tx) => {
      const started = await createCalendarRepository(tx).recordFailure(s.name, now, error);
      if (!started) return;
      const copy = row?.text && row.fetchedAt ? `the copy fetched ${utc(row.fetchedAt)}` : null;
      await deps.alert(
        tx,
        `:warning: On-call schedule *${s.name}* could not be fetched from ${hostOf(s.url)}: ${error}. ${copy ? `Pages keep going by ${copy}, which may be out of date` : "It has no good copy yet, so nobody is on call in it"}; it is tried again every ${Math.round(Math.min(s.everyMs, FAILING_RETRY_MS) / 60_000)} min, and this channel hears when it works again.`,
      );
    });
    return { schedule: s.name, outcome: "failed", error };
  }

  return {
    sync,
    /**
     * The claimed tick: fetches each URL schedule whose `refresh_every` is up since its last
     * attempt (sooner while it fails), records the outcome, then loads what was stored.
     */
    async run(tickAt: Date): Promise<RefreshOutcome[]> {
      const repo = createCalendarRepository(deps.db);
      const out: RefreshOutcome[] = [];
      for (const s of remote) {
        const row = await repo.get(s.name);
        if (!due(row, s.everyMs, tickAt)) continue;
        // Recorded at the tick, not the clock: the next one is due exactly refresh_every later,
        // rather than a minute late each time the run starts a moment after its tick.
        const result = await refreshOne(s, row, tickAt);
        if (result.outcome === "failed")
          deps.logger.warn(
            { schedule: s.name, error: result.error },
            "could not fetch a schedule; keeping its last good copy",
          );
        out.push(result);
      }
      await sync();
      return out;
    },
    /** Whether any schedule is fetched from a URL (no job otherwise). */
    get any(): boolean {
      return remote.length > 0;
    },
  };
}

/** The calendar refresh. */
export type CalendarRefresh = ReturnType<typeof createCalendarRefresh>;
