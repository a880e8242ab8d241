/** A schedule's shifts as an iCalendar feed, for calendar apps to subscribe to. */
import ical, { ICalEventTransparency } from "ical-generator";
import type { Shift } from "./model.js";

/** How far the feed reaches: shifts this far back and ahead of the moment it is built. */
export const FEED_HORIZON = { backMs: 8 * 7 * 86_400_000, aheadMs: 12 * 7 * 86_400_000 } as const;

/** The Slack user id of a feed event's person, so a reader can map it back without names. */
export const USER_PROPERTY = "X-MLOPS-SLACK-USER";

/**
 * The feed of one schedule: one VEVENT per shift, in UTC (so no client can misread a zone), with
 * the person in the summary and in `X-MLOPS-SLACK-USER`, and a UID stable while the shift is.
 */
export function scheduleFeed(
  schedule: string,
  shifts: readonly Shift[],
  opts: { now: Date; name?: (user: string) => string | undefined },
): string {
  const cal = ical({
    name: `On call: ${schedule}`,
    prodId: { company: "mlops-bot", product: "oncall", language: "EN" },
    ttl: 15 * 60,
  });
  for (const s of shifts) {
    const person = (s.user && opts.name?.(s.user)) ?? s.label;
    const why = s.source.kind === "override" ? `override ${s.source.id}` : `layer ${s.source.name}`;
    const event = cal.createEvent({
      id: `${schedule}-${s.start.getTime()}-${s.user ?? "unmapped"}@mlops-bot`,
      start: s.start,
      end: s.end,
      stamp: opts.now,
      summary: `On call: ${person}`,
      description: `Schedule ${schedule}, ${why}`,
      transparency: ICalEventTransparency.TRANSPARENT,
    });
    if (s.user) event.x([[USER_PROPERTY, s.user]]);
  }
  return cal.toString();
}
