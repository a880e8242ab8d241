import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CalendarImportError, calendarLayer, onCallAt, type Schedule } from "../../src/oncall/index.js";

const FIXTURE = new URL("./fixtures/ds-oncall-export.ics", import.meta.url);

/** The fixture's people: attendee e-mails and names in summaries → Slack users. */
const USERS = {
  "dana@example.com": "U0DANA",
  "dev@example.com": "U0DEV",
  "Maya Owner": "U0MAYA",
  "Olivia Ops": "U0OLIVIA",
};

function imported(): Schedule {
  const layer = calendarLayer(readFileSync(FIXTURE, "utf8"), USERS, "Europe/Berlin");
  return { name: "ds-oncall", timezone: "Europe/Berlin", layers: [layer] };
}

/** Who the answer names: the Slack user, `?label` for someone without a mapping, null for nobody. */
function who(s: Schedule, at: string): string | null {
  const found = onCallAt(s, new Date(at));
  return found ? (found.user ?? `?${found.label}`) : null;
}

describe("a schedule imported from an iCal export", () => {
  it("answers the expected person at 20 instants (RRULE, EXDATE, RECURRENCE-ID, TZID, UTC)", () => {
    // Berlin is CET (+1) until 29 March and CEST (+2) after; New York is EDT (-4) from 8 March.
    const expected: [string, string | null][] = [
      ["2026-03-02T07:59:00Z", null], // before Dana's first week (Mon 09:00 CET)
      ["2026-03-02T08:00:00Z", "U0DANA"], // Dana's attendee e-mail
      ["2026-03-09T07:59:00Z", "U0DANA"],
      ["2026-03-09T08:00:00Z", "U0DEV"], // Dev's fortnightly rotation starts
      ["2026-03-10T22:30:00Z", "U0OMAR"], // 18:30 in New York: the evening cover starts later, so it wins
      ["2026-03-11T03:00:00Z", "U0DEV"], // 23:00 in New York: the cover ended
      ["2026-03-12T22:30:00Z", "U0DEV"], // EXDATE took the 12 March cover out
      ["2026-03-14T22:30:00Z", "U0OMAR"], // the fifth of COUNT=5 (the excluded one still counts)
      ["2026-03-15T22:30:00Z", "U0DEV"], // COUNT used up
      ["2026-03-30T06:59:00Z", "U0DEV"], // Mon 08:59 CEST
      ["2026-03-30T07:30:00Z", "U0DANA"], // Dana from 09:00 CEST; Dev's exact 168 h run to 10:00 CEST
      ["2026-04-13T06:59:00Z", "U0DEV"],
      ["2026-04-13T07:00:00Z", "U0MAYA"], // Dana's week is an EXDATE; Maya covers by summary
      ["2026-04-17T07:00:00Z", null], // Maya's cover ended, nobody until Dev on 20 April
      ["2026-04-20T07:00:00Z", "U0DEV"],
      ["2026-05-04T08:00:00Z", null], // Dev's 4 May week was moved (RECURRENCE-ID) to start a day late
      ["2026-05-05T07:00:00Z", "U0DEV"], // the moved occurrence
      ["2026-05-11T07:00:00Z", "U0DANA"], // Dana's sixth and last (COUNT=6, one excluded)
      ["2026-05-18T12:30:00Z", "U0OLIVIA"], // a PagerDuty-style UTC event, the name inside the summary
      ["2026-05-26T06:00:00Z", "?On Call - Gus Guest - DS on-call"], // nobody mapped: shown by its summary
    ];
    expect(expected).toHaveLength(20);
    const s = imported();
    expect(expected.map(([at]) => [at, who(s, at)])).toEqual(expected);
  });

  it("gives the same answers whichever order the instants are asked in", () => {
    const s = imported();
    expect(who(s, "2026-05-11T07:00:00Z")).toBe("U0DANA");
    expect(who(s, "2026-03-10T22:30:00Z")).toBe("U0OMAR");
  });

  it("leaves out an instance the export marks CANCELLED, and keeps an exception whose series is missing", () => {
    const text = [
      "BEGIN:VCALENDAR",
      "VERSION:2.0",
      "BEGIN:VEVENT",
      "UID:series@example.com",
      "DTSTART:20260302T080000Z",
      "DTEND:20260303T080000Z",
      "RRULE:FREQ=DAILY;COUNT=3",
      "SUMMARY:U0DANA",
      "END:VEVENT",
      "BEGIN:VEVENT",
      "UID:series@example.com",
      "RECURRENCE-ID:20260303T080000Z",
      "DTSTART:20260303T080000Z",
      "DTEND:20260304T080000Z",
      "STATUS:CANCELLED",
      "SUMMARY:U0DANA",
      "END:VEVENT",
      "BEGIN:VEVENT",
      "UID:other-series@example.com",
      "RECURRENCE-ID:20260310T080000Z",
      "DTSTART:20260310T080000Z",
      "DTEND:20260310T200000Z",
      "SUMMARY:U0DEV",
      "END:VEVENT",
      "END:VCALENDAR",
    ].join("\r\n");
    const s: Schedule = { name: "x", timezone: "UTC", layers: [calendarLayer(text, {}, "UTC")] };
    expect(who(s, "2026-03-02T12:00:00Z")).toBe("U0DANA");
    expect(who(s, "2026-03-03T12:00:00Z")).toBeNull();
    expect(who(s, "2026-03-04T12:00:00Z")).toBe("U0DANA");
    expect(who(s, "2026-03-10T12:00:00Z")).toBe("U0DEV");
  });

  it("refuses text that is not iCalendar", () => {
    expect(() => calendarLayer("hello", {}, "UTC")).toThrow(CalendarImportError);
  });
});
