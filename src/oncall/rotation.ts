/** A rotation layer: people taking daily or weekly shifts in turn, optionally only in some hours. */
import { type LayerConfig, WEEKDAYS } from "../config/index.js";
import type { OnCallPerson, ScheduleLayer } from "./model.js";
import { dayOf, instantOf, wallTime, weekdayOf } from "./zoned-time.js";

/** A restriction window with its days as numbers (Monday 0). */
interface Window {
  days: Set<number>;
  from: number;
  to: number;
}

/**
 * Is a wall time inside one of the windows? A window whose end is at or before its start runs
 * past midnight: its tail belongs to the day it started on.
 */
function inside(windows: readonly Window[], day: number, minute: number): boolean {
  const wd = weekdayOf(day);
  const prev = weekdayOf(day - 1);
  return windows.some((w) =>
    w.from < w.to
      ? w.days.has(wd) && minute >= w.from && minute < w.to
      : (w.days.has(wd) && minute >= w.from) || (w.days.has(prev) && minute < w.to),
  );
}

/** Builds the layer of a rotation in `defaultTz` (the schedule's zone) unless it sets its own. */
export function rotationLayer(config: LayerConfig, index: number, defaultTz: string): ScheduleLayer {
  const tz = config.timezone ?? defaultTz;
  const anchor = dayOf(config.start);
  const length = config.rotation === "weekly" ? 7 : 1;
  const people = config.users;
  const windows: Window[] | undefined = config.restrictions?.map((r) => ({
    days: new Set(r.days.map((d) => WEEKDAYS.indexOf(d))),
    from: r.from,
    to: r.to,
  }));
  const shiftStart = (k: number) => instantOf(tz, anchor + k * length, config.handoff);

  /** The number of the shift holding `ms` (0 is the one starting on `start`; negative before it). */
  function shiftAt(ms: number): number {
    const wall = wallTime(tz, ms);
    const day = wall.minute < config.handoff ? wall.day - 1 : wall.day;
    let k = Math.floor((day - anchor) / length);
    // The guess from the wall clock can be one off around a DST change; the instants decide.
    while (ms < shiftStart(k)) k--;
    while (ms >= shiftStart(k + 1)) k++;
    return k;
  }

  return {
    name: config.name ?? `layer ${index + 1}`,
    at(ms: number): OnCallPerson | null {
      if (windows) {
        const wall = wallTime(tz, ms);
        if (!inside(windows, wall.day, wall.minute)) return null;
      }
      const n = people.length;
      const user = people[(((shiftAt(ms) % n) + n) % n) as number] as string;
      return { user, label: user };
    },
    edges(from: number, to: number): number[] {
      const out: number[] = [];
      for (let k = shiftAt(from) + 1; shiftStart(k) < to; k++) out.push(shiftStart(k));
      if (windows) {
        const last = wallTime(tz, to).day + 1;
        for (let day = wallTime(tz, from).day - 1; day <= last; day++) {
          for (const w of windows) {
            if (!w.days.has(weekdayOf(day))) continue;
            out.push(instantOf(tz, day, w.from));
            out.push(w.from < w.to ? instantOf(tz, day, w.to) : instantOf(tz, day + 1, w.to));
          }
        }
      }
      return out.filter((t) => t > from && t < to);
    },
  };
}
