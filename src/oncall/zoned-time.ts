/**
 * Wall-clock arithmetic in IANA time zones with Intl alone. Rotations count calendar days in
 * their zone, so a handoff stays at 09:00 local across a DST change while the shift grows or
 * shrinks by an hour.
 */

const DAY_MS = 86_400_000;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: tz,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formatters.set(tz, f);
  }
  return f;
}

/** A wall-clock reading: days since 1970-01-01 of the local date, and minutes after local midnight. */
export interface WallTime {
  day: number;
  minute: number;
}

/** The UTC offset of `tz` at instant `ms`, in milliseconds (Berlin in summer: +7,200,000). */
export function offsetAt(tz: string, ms: number): number {
  const parts = formatter(tz).formatToParts(new Date(ms));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const asUtc = Date.UTC(
    get("year"),
    get("month") - 1,
    get("day"),
    get("hour"),
    get("minute"),
    get("second"),
  );
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/** What a clock in `tz` shows at instant `ms`. */
export function wallTime(tz: string, ms: number): WallTime {
  const local = ms + offsetAt(tz, ms);
  const day = Math.floor(local / DAY_MS);
  return { day, minute: Math.floor((local - day * DAY_MS) / 60_000) };
}

/**
 * The instant at which a clock in `tz` shows `minute` on local `day`. A time the clock skips
 * (spring forward) is the instant just after the gap, as far past it as the time was into it
 * (02:30 → 03:30); a time it shows twice (fall back) is the first of the two.
 */
export function instantOf(tz: string, day: number, minute: number): number {
  const local = day * DAY_MS + minute * 60_000;
  // The offsets a day either side are the two that can apply (zones change at most once a day).
  const before = offsetAt(tz, local - DAY_MS);
  const after = offsetAt(tz, local + DAY_MS);
  const valid = [local - before, local - after].filter(
    (t, i) => offsetAt(tz, t) === (i === 0 ? before : after),
  );
  if (valid.length > 0) return Math.min(...valid);
  return local - before;
}

/** The weekday of a local day number, Monday 0 … Sunday 6 (1970-01-01 was a Thursday). */
export function weekdayOf(day: number): number {
  return (((day + 3) % 7) + 7) % 7;
}

/** The day number of a `YYYY-MM-DD` date. */
export function dayOf(isoDate: string): number {
  const [y, m, d] = isoDate.split("-").map(Number) as [number, number, number];
  return Math.floor(Date.UTC(y, m - 1, d) / DAY_MS);
}
