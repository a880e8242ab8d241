/** Cron arithmetic for tick claims: which tick a firing belongs to. Schedules are read in UTC. */
import { parse } from "node-cron";

const MINUTE = 60_000;
/** How far back a tick is searched (a year of minutes). */
const MAX_MINUTES_BACK = 366 * 24 * 60;

/**
 * The most recent time at or before `now` that the cron expression names, or null within a year.
 * A firing is identified by this time, not by the wall clock when it fired, so replicas whose
 * clocks differ by less than the interval between ticks compute the same claim key.
 */
export function latestTick(expression: string, now: Date): Date | null {
  const f = parse(expression);
  const seconds = [...f.second].sort((a, b) => b - a);
  const minutes = new Set(f.minute);
  const hours = new Set(f.hour);
  const doms = new Set(f.dayOfMonth.map(Number));
  const months = new Set(f.month);
  const dows = new Set(f.dayOfWeek.map((d) => Number(d) % 7));
  const start = Math.floor(now.getTime() / MINUTE) * MINUTE;
  const nowSecond = now.getUTCSeconds();
  for (let i = 0; i <= MAX_MINUTES_BACK; i++) {
    const t = new Date(start - i * MINUTE);
    if (
      !minutes.has(t.getUTCMinutes()) ||
      !hours.has(t.getUTCHours()) ||
      !doms.has(t.getUTCDate()) ||
      !months.has(t.getUTCMonth() + 1) ||
      !dows.has(t.getUTCDay())
    )
      continue;
    const s = seconds.find((x) => i > 0 || x <= nowSecond);
    if (s !== undefined) return new Date(t.getTime() + s * 1000);
  }
  return null;
}
