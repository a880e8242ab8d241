/**
 * A schedule layer from an external iCalendar file (PagerDuty, Grafana OnCall, Google Calendar
 * exports): each event is a shift of the person it names, recurring events expand by RRULE minus
 * EXDATE, moved occurrences (RECURRENCE-ID) replace theirs, and times are read in their TZID.
 */
import ICAL from "ical.js";
import { isTimeZone } from "../config/time-zone.js";
import type { OnCallPerson, ScheduleLayer } from "./model.js";
import { dayOf, instantOf } from "./zoned-time.js";

/** An iCal file that cannot be used as a schedule; `message` says why. */
export class CalendarImportError extends Error {
  readonly code = "calendar_invalid";
  constructor(message: string) {
    super(message);
    this.name = "CalendarImportError";
  }
}

/** How names in the file map to Slack users: e-mail addresses or summaries → user ids. */
export type PeopleMap = Readonly<Record<string, string>>;

interface Occurrence extends OnCallPerson {
  start: number;
  end: number;
  order: number;
}

const USER_ID = /<@([UW][A-Z0-9]{2,})>|\b([UW][A-Z0-9]{2,})\b/;
/** Occurrences expanded per event and call at most, so a runaway RRULE cannot hang the bot. */
const MAX_STEPS = 50_000;

/** The instant of an iCal time: UTC as is, a TZID through Intl (or the file's VTIMEZONE), floating in `fallbackTz`. */
function instantOfTime(time: ICAL.Time, tzid: string | undefined, fallbackTz: string): number {
  const day = dayOf(
    `${String(time.year).padStart(4, "0")}-${String(time.month).padStart(2, "0")}-${String(time.day).padStart(2, "0")}`,
  );
  const zone = time.zone?.tzid;
  if (!time.isDate && zone === "UTC")
    return Date.UTC(time.year, time.month - 1, time.day, time.hour, time.minute, time.second);
  const name = tzid ?? (zone && zone !== "floating" ? zone : undefined);
  if (!time.isDate && name && !isTimeZone(name) && zone === name) return time.toUnixTime() * 1000;
  const tz = name && isTimeZone(name) ? name : fallbackTz;
  if (time.isDate) return instantOf(tz, day, 0);
  return instantOf(tz, day, time.hour * 60 + time.minute) + time.second * 1000;
}

/** Who an event names: a mapped attendee e-mail, else its summary (mapped, a user id, or a mapped name in it). */
export function personOf(component: ICAL.Component, people: PeopleMap): OnCallPerson {
  const lower = new Map(Object.entries(people).map(([k, v]) => [k.toLowerCase(), v]));
  let firstName: string | undefined;
  for (const attendee of component.getAllProperties("attendee")) {
    const email = String(attendee.getFirstValue() ?? "")
      .replace(/^mailto:/i, "")
      .toLowerCase();
    const user = lower.get(email);
    const cn = attendee.getParameter("cn");
    if (user) return { user, label: typeof cn === "string" ? cn : email };
    firstName ??= typeof cn === "string" ? cn : email || undefined;
  }
  const summary = String(component.getFirstPropertyValue("summary") ?? "").trim();
  const exact = lower.get(summary.toLowerCase());
  if (exact) return { user: exact, label: summary };
  const id = USER_ID.exec(summary);
  if (id) {
    const user = (id[1] ?? id[2]) as string;
    return { user, label: user };
  }
  // A longer name first, so "Dana Science" is preferred to "Dana" when both are mapped.
  const inSummary = [...lower.keys()]
    .filter((k) => !k.includes("@") && summary.toLowerCase().includes(k))
    .sort((a, b) => b.length - a.length)[0];
  if (inSummary) return { user: lower.get(inSummary) as string, label: summary };
  return { user: null, label: firstName ?? (summary || "(unnamed)") };
}

interface EventState {
  event: ICAL.Event;
  /** Its place in the file: on a tie, the later event wins. */
  rank: number;
  iterator: ICAL.RecurExpansion | null;
  done: boolean;
  next: number;
}

/**
 * Reads iCal text into a layer. Overlapping events: the one that started last is on call (a later
 * event in the file on a tie). `fallbackTz` is the zone of floating times and all-day events.
 */
export function calendarLayer(
  text: string,
  people: PeopleMap,
  fallbackTz: string,
  name = "calendar",
): ScheduleLayer {
  let root: ICAL.Component;
  try {
    root = new ICAL.Component(ICAL.parse(text) as unknown[]);
  } catch (err) {
    throw new CalendarImportError(`not an iCalendar file: ${(err as Error).message}`);
  }
  if (root.name !== "vcalendar") throw new CalendarImportError("not an iCalendar file: no VCALENDAR");
  const components = root.getAllSubcomponents("vevent");
  const masters = new Map<string, ICAL.Event>();
  const exceptions: ICAL.Component[] = [];
  for (const c of components) {
    if (c.hasProperty("recurrence-id")) exceptions.push(c);
    else {
      const uid = String(c.getFirstPropertyValue("uid") ?? `#${masters.size}`);
      masters.set(uid, new ICAL.Event(c));
    }
  }
  for (const c of exceptions) {
    const uid = String(c.getFirstPropertyValue("uid"));
    const master = masters.get(uid);
    // An exception whose series is not in the file is a shift of its own.
    if (master) master.relateException(c);
    else masters.set(`${uid}#${masters.size}`, new ICAL.Event(c));
  }
  const occurrences: Occurrence[] = [];

  const tzidOf = (c: ICAL.Component, prop: string): string | undefined => {
    const p = c.getFirstProperty(prop)?.getParameter("tzid");
    return typeof p === "string" ? p : undefined;
  };
  const add = (event: ICAL.Event, start: ICAL.Time, end: ICAL.Time, rank: number) => {
    const c = event.component;
    const s = instantOfTime(start, tzidOf(c, "dtstart"), fallbackTz);
    let e: number;
    if (c.hasProperty("dtend") || !c.hasProperty("duration")) {
      // RFC 5545: with DTEND every occurrence lasts the exact duration of the first one.
      const dtstart = c.getFirstPropertyValue("dtstart") as ICAL.Time;
      const dtend = (c.getFirstPropertyValue("dtend") as ICAL.Time | null) ?? end;
      const exact =
        instantOfTime(dtend, tzidOf(c, "dtend") ?? tzidOf(c, "dtstart"), fallbackTz) -
        instantOfTime(dtstart, tzidOf(c, "dtstart"), fallbackTz);
      e = s + (c.hasProperty("dtend") ? exact : dtstart.isDate ? 86_400_000 : 0);
    } else {
      e = instantOfTime(end, tzidOf(c, "dtstart"), fallbackTz);
    }
    // Google exports a deleted instance of a series as an exception with STATUS:CANCELLED.
    const cancelled = String(c.getFirstPropertyValue("status") ?? "").toUpperCase() === "CANCELLED";
    if (e > s && !cancelled) occurrences.push({ ...personOf(c, people), start: s, end: e, order: rank });
  };

  const states: EventState[] = [...masters.values()].map((event, rank) => ({
    event,
    rank,
    iterator: event.isRecurring() ? event.iterator() : null,
    done: false,
    next: Number.NEGATIVE_INFINITY,
  }));
  let expandedTo = Number.NEGATIVE_INFINITY;

  /** Expands every event's occurrences that start before `until`. */
  function expand(until: number): void {
    if (until <= expandedTo) return;
    let complete = true;
    for (const st of states) {
      if (st.done) continue;
      if (!st.iterator) {
        add(st.event, st.event.startDate, st.event.endDate, st.rank);
        st.done = true;
        continue;
      }
      for (let steps = 0; steps < MAX_STEPS && st.next < until; steps++) {
        const time = st.iterator.next();
        if (!time) {
          st.done = true;
          break;
        }
        const details = st.event.getOccurrenceDetails(time);
        const item = details.item ?? st.event;
        st.next = instantOfTime(time, tzidOf(st.event.component, "dtstart"), fallbackTz);
        add(item, details.startDate, details.endDate, st.rank);
      }
      if (!st.done && st.next < until) complete = false;
    }
    // Only when every series got there: a capped one goes on from where it stopped next time.
    if (complete) expandedTo = until;
  }

  return {
    name,
    at(ms: number): OnCallPerson | null {
      expand(ms + 1);
      let best: Occurrence | undefined;
      for (const o of occurrences) {
        if (
          o.start <= ms &&
          ms < o.end &&
          (!best || o.start > best.start || (o.start === best.start && o.order > best.order))
        )
          best = o;
      }
      return best ? { user: best.user, label: best.label } : null;
    },
    edges(from: number, to: number): number[] {
      expand(to);
      return occurrences.flatMap((o) => [o.start, o.end]).filter((t) => t > from && t < to);
    },
  };
}
