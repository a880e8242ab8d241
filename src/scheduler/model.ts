/**
 * Cron arithmetic for tick claims: which tick a firing belongs to. Schedules are read in UTC
 * unless a job names an IANA time zone (the weekly report at 09:00 where the team works).
 */
import { parse } from "node-cron";

const MINUTE = 60_000;
const UTC_ZONES = new Set(["UTC", "Etc/UTC", "Etc/GMT", "GMT"]);
const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

/** The wall-clock fields of an instant in an IANA time zone (DST included, as Intl knows it). */
function wallClock(timeZone: string) {
  const format = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hourCycle: "h23",
    minute: "numeric",
    hour: "numeric",
    day: "numeric",
    month: "numeric",
    weekday: "short",
  });
  return (t: Date) => {
    const parts: Record<string, string> = {};
    for (const p of format.formatToParts(t)) parts[p.type] = p.value;
    return {
      minute: Number(parts.minute),
      hour: Number(parts.hour),
      day: Number(parts.day),
      month: Number(parts.month),
      weekday: WEEKDAYS[parts.weekday ?? ""] ?? -1,
    };
  };
}

/** How far back a tick is searched (a year of minutes). */
const MAX_MINUTES_BACK = 366 * 24 * 60;

/**
 * The most recent time at or before `now` that the cron expression names, or null within a year.
 * A firing is identified by this time, not by the wall clock when it fired, so replicas whose
 * clocks differ by less than the interval between ticks compute the same claim key.
 */
export function latestTick(expression: string, now: Date, timeZone?: string): Date | null {
  const f = parse(expression);
  const wall = timeZone && !UTC_ZONES.has(timeZone) ? wallClock(timeZone) : undefined;
  const seconds = [...f.second].sort((a, b) => b - a);
  const minutes = new Set(f.minute);
  const hours = new Set(f.hour);
  const doms = new Set(f.dayOfMonth.map(Number));
  const months = new Set(f.month);
  const dows = new Set(f.dayOfWeek.map((d) => Number(d) % 7));
  const start = Math.floor(now.getTime() / MINUTE) * MINUTE;
  const nowSecond = now.getUTCSeconds();
  // Every zone's offset is a whole number of quarter hours, so a minute can match only when its
  // UTC minute agrees with a scheduled minute modulo 15; the others skip the costly zone lookup.
  const quarters = new Set([...minutes].map((m) => m % 15));
  for (let i = 0; i <= MAX_MINUTES_BACK; i++) {
    const t = new Date(start - i * MINUTE);
    if (wall && !quarters.has(t.getUTCMinutes() % 15)) continue;
    const w = wall
      ? wall(t)
      : {
          minute: t.getUTCMinutes(),
          hour: t.getUTCHours(),
          day: t.getUTCDate(),
          month: t.getUTCMonth() + 1,
          weekday: t.getUTCDay(),
        };
    if (
      !minutes.has(w.minute) ||
      !hours.has(w.hour) ||
      !doms.has(w.day) ||
      !months.has(w.month) ||
      !dows.has(w.weekday)
    )
      continue;
    const s = seconds.find((x) => i > 0 || x <= nowSecond);
    if (s !== undefined) return new Date(t.getTime() + s * 1000);
  }
  return null;
}
