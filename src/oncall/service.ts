/** On-call use cases: who is on a schedule now and next, its feed, from the config and overrides. */
import { readFileSync } from "node:fs";
import { ConfigError, type MlopsConfig, type ScheduleConfig } from "../config/index.js";
import type { Clock } from "../shared/clock.js";
import { OnCallError } from "./errors.js";
import { FEED_HORIZON, scheduleFeed } from "./ical-export.js";
import { CalendarImportError, calendarLayer } from "./ical-import.js";
import type { OnCallAt, Override, Schedule, Shift } from "./model.js";
import { rotationLayer } from "./rotation.js";
import { onCallAt, shiftsBetween } from "./timeline.js";

/** Where overrides come from (a table in a later slice); the engine only reads them. */
export interface OverrideSource {
  /** The overrides of `schedule`, undone ones included or not (the engine drops them). */
  list(schedule: string): Promise<readonly Override[]>;
}

/** No overrides: what the bot uses until overrides are stored. */
export const noOverrides: OverrideSource = { list: async () => [] };

/** What the on-call service needs; wired once by the feature. */
export interface OnCallDeps {
  config: MlopsConfig;
  clock: Clock;
  overrides?: OverrideSource;
  /** Reads an imported schedule's file (tests pass text); the file system when absent. */
  readFile?: (path: string) => string;
  /** A person's display name for the feed; the user id when unknown. */
  displayName?: (user: string) => string | undefined;
}

/** How fetching a schedule's URL went (as stored, shared by every replica), for /readyz and `/mlops oncall`. */
export interface RemoteStatus {
  schedule: string;
  /** When the copy in use was fetched; null: none yet. */
  fetchedAt: Date | null;
  /** Since when fetching has failed (the copy in use may be out of date); null while it works. */
  staleSince: Date | null;
  /** The last failure since the last success, if any. */
  error: { at: Date; message: string } | null;
}

/** Who is on call in a schedule now, and who takes over next. */
export interface NowAndNext {
  schedule: string;
  timezone: string;
  current: Shift | null;
  next: Shift | null;
}

/** How far `nowAndNext` looks back for the start of the current shift and ahead for the next. */
const LOOK_BACK_MS = 35 * 86_400_000;
const LOOK_AHEAD_MS = 12 * 7 * 86_400_000;

/**
 * Builds one schedule from its config, reading an imported iCal file with `readFile`. Throws
 * CalendarImportError for a file that is not iCalendar, and the read error for a missing one. A
 * schedule fetched from a URL starts from `cached` (its last good copy), or with nobody on call
 * until its first fetch.
 */
export function buildSchedule(
  name: string,
  config: ScheduleConfig,
  readFile: (path: string) => string = (p) => readFileSync(p, "utf8"),
  cached?: string,
): Schedule {
  if (config.ical) {
    const { file, users, url } = config.ical;
    const text = file ? readFile(file) : cached;
    if (text === undefined) return { name, timezone: config.timezone, layers: [] };
    const layer = calendarLayer(text, users, config.timezone, file ?? url ?? name);
    return { name, timezone: config.timezone, layers: [layer] };
  }
  const layers = (config.layers ?? []).map((l, i) => rotationLayer(l, i, config.timezone));
  return { name, timezone: config.timezone, layers };
}

/**
 * Builds every configured schedule. An imported file that is missing or not iCalendar is a
 * ConfigError naming its key, so the bot refuses to start (exit 78). A schedule fetched from a URL
 * starts with nobody on call, until its stored copy is loaded (`useCopy`).
 */
export function buildSchedules(
  config: MlopsConfig,
  readFile?: (path: string) => string,
): Map<string, Schedule> {
  const out = new Map<string, Schedule>();
  const problems: string[] = [];
  for (const [name, s] of Object.entries(config.schedules)) {
    try {
      out.set(name, buildSchedule(name, s, readFile));
    } catch (err) {
      const key = `schedules.${name}.ical.file`;
      const file = s.ical?.file;
      const code = (err as NodeJS.ErrnoException).code;
      if (err instanceof CalendarImportError) problems.push(`${key}: ${file}: ${err.message}`);
      else if (code === "ENOENT") problems.push(`${key}: file not found: ${file}`);
      else if (typeof code === "string") problems.push(`${key}: cannot read ${file}: ${code}`);
      else throw err;
    }
  }
  if (problems.length > 0) throw new ConfigError("the schedules' calendar files", problems);
  return out;
}

/** Creates the on-call service over the configured schedules. */
export function createOnCallService(deps: OnCallDeps) {
  const schedules = buildSchedules(deps.config, deps.readFile);
  const overrides = deps.overrides ?? noOverrides;
  const remote = new Map<string, RemoteStatus>(
    Object.entries(deps.config.schedules)
      .filter(([, s]) => s.ical?.url)
      .map(([name]) => [name, { schedule: name, fetchedAt: null, staleSince: null, error: null }]),
  );

  function get(name: string): Schedule {
    const s = schedules.get(name);
    if (!s)
      throw new OnCallError(
        "unknown_schedule",
        `There is no schedule \`${name}\`${schedules.size ? `; known: ${[...schedules.keys()].join(", ")}` : " (none are configured)"}.`,
      );
    return s;
  }

  async function shifts(name: string, from: Date, to: Date): Promise<Shift[]> {
    const s = get(name);
    return shiftsBetween(s, from, to, await overrides.list(name));
  }

  return {
    /**
     * The schedule URL schedule `name` would be with feed `text`; throws (CalendarImportError, or
     * an Error for a feed without events: an export that lost them must not empty the schedule).
     */
    parseCopy(name: string, text: string): Schedule {
      const config = deps.config.schedules[name];
      if (!config?.ical?.url)
        throw new OnCallError("unknown_schedule", `\`${name}\` is not fetched from a URL.`);
      const schedule = buildSchedule(name, config, deps.readFile, text);
      if (!/^BEGIN:VEVENT\r?$/im.test(text)) throw new CalendarImportError("the calendar has no events");
      return schedule;
    },

    /** Answers from `schedule` for URL schedule `name` from now on (a copy `parseCopy` built). */
    useCopy(schedule: Schedule): void {
      if (remote.has(schedule.name)) schedules.set(schedule.name, schedule);
    },

    /** Records how fetching URL schedule `name` stands (read from the shared store). */
    setRemoteStatus(status: RemoteStatus): void {
      if (remote.has(status.schedule)) remote.set(status.schedule, status);
    },

    /** How fetching each URL schedule went. */
    remoteStatus(): RemoteStatus[] {
      return [...remote.values()];
    },

    /** The configured schedules' names. */
    names(): string[] {
      return [...schedules.keys()];
    },

    /** The built schedule called `name` (throws OnCallError when unknown). */
    schedule: get,

    /** Who is on call in `name` at `at` (now by default), overrides applied; null when nobody. */
    async whoIsOn(name: string, at: Date = deps.clock.now()): Promise<OnCallAt | null> {
      const s = get(name);
      return onCallAt(s, at, await overrides.list(name));
    },

    /** The current shift (with its real start) and the next one, from `at` (now by default). */
    async nowAndNext(name: string, at: Date = deps.clock.now()): Promise<NowAndNext> {
      const s = get(name);
      const ms = at.getTime();
      const shifts = shiftsBetween(
        s,
        new Date(ms - LOOK_BACK_MS),
        new Date(ms + LOOK_AHEAD_MS),
        await overrides.list(name),
      );
      const current = shifts.find((x) => x.start.getTime() <= ms && ms < x.end.getTime()) ?? null;
      const next = shifts.find((x) => x.start.getTime() > ms) ?? null;
      return { schedule: name, timezone: s.timezone, current, next };
    },

    /** The shifts of `name` in [from, to), overrides applied. */
    shifts,

    /**
     * The schedule's iCalendar feed: shifts that overlap 8 weeks back to 12 weeks ahead of now.
     * A shift under way at the back edge keeps its real start (within LOOK_BACK_MS), so its UID
     * stays the same from one fetch to the next; the last one is cut at the front edge.
     */
    async feed(name: string): Promise<string> {
      const now = deps.clock.now();
      const from = now.getTime() - FEED_HORIZON.backMs;
      const found = await shifts(
        name,
        new Date(from - LOOK_BACK_MS),
        new Date(now.getTime() + FEED_HORIZON.aheadMs),
      );
      return scheduleFeed(
        name,
        found.filter((s) => s.end.getTime() > from),
        { now, ...(deps.displayName ? { name: deps.displayName } : {}) },
      );
    },
  };
}

/** The on-call service. */
export type OnCallService = ReturnType<typeof createOnCallService>;
