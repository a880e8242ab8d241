import { describe, expect, it } from "vitest";
import { scheduleSchema } from "../../src/config/index.js";
import {
  buildSchedule,
  type Override,
  onCallAt,
  type Schedule,
  shiftsBetween,
} from "../../src/oncall/index.js";

/** A schedule from the YAML form (validated and defaulted by the config schema). */
function schedule(name: string, raw: unknown): Schedule {
  return buildSchedule(name, scheduleSchema.parse(raw));
}

/** Checks an expectation table: each explicit UTC instant → the user on call (null: nobody). */
function expectTable(s: Schedule, table: [string, string | null][], overrides: Override[] = []) {
  const got = table.map(([at]) => [at, onCallAt(s, new Date(at), overrides)?.user ?? null]);
  expect(got).toEqual(table);
}

describe("a weekly rotation in Europe/Berlin (handoff Monday 09:00 local)", () => {
  // DST 2026 in Berlin: 29 March 02:00 CET → 03:00 CEST; 25 October 03:00 CEST → 02:00 CET.
  const s = schedule("weekly-berlin", {
    timezone: "Europe/Berlin",
    layers: [
      { users: ["UANNA", "UBEN", "UCARA"], rotation: "weekly", handoff: "09:00", start: "2026-03-16" },
    ],
  });

  it("hands over at 09:00 local on both sides of spring forward and fall back", () => {
    expectTable(s, [
      ["2026-03-16T07:59:00Z", "UCARA"], // before the first shift the rotation runs backwards
      ["2026-03-16T08:00:00Z", "UANNA"], // Mon 09:00 CET
      ["2026-03-23T07:59:59Z", "UANNA"],
      ["2026-03-23T08:00:00Z", "UBEN"], // Mon 09:00 CET
      ["2026-03-29T12:00:00Z", "UBEN"], // Sunday, after the clocks went forward
      ["2026-03-30T06:59:59Z", "UBEN"], // Mon 08:59:59 CEST
      ["2026-03-30T07:00:00Z", "UCARA"], // Mon 09:00 CEST: the shift was 167 hours
      ["2026-03-30T07:30:00Z", "UCARA"], // a fixed 168-hour week would still say UBEN here
      ["2026-10-19T07:00:00Z", "UBEN"], // Mon 09:00 CEST, 31 weeks on (31 mod 3 = 1)
      ["2026-10-25T00:30:00Z", "UBEN"], // 02:30 CEST, first pass
      ["2026-10-25T01:30:00Z", "UBEN"], // 02:30 CET, second pass
      ["2026-10-26T07:30:00Z", "UBEN"], // Mon 08:30 CET: the shift is 169 hours
      ["2026-10-26T07:59:59Z", "UBEN"],
      ["2026-10-26T08:00:00Z", "UCARA"], // Mon 09:00 CET
    ]);
  });

  it("lists the shifts around spring forward with their real lengths", () => {
    const shifts = shiftsBetween(s, new Date("2026-03-22T00:00:00Z"), new Date("2026-04-01T00:00:00Z"));
    expect(shifts.map((x) => [x.user, x.start.toISOString(), x.end.toISOString()])).toEqual([
      ["UANNA", "2026-03-22T00:00:00.000Z", "2026-03-23T08:00:00.000Z"],
      ["UBEN", "2026-03-23T08:00:00.000Z", "2026-03-30T07:00:00.000Z"],
      ["UCARA", "2026-03-30T07:00:00.000Z", "2026-04-01T00:00:00.000Z"],
    ]);
  });
});

describe("a daily rotation in America/New_York", () => {
  // DST 2026 in New York: 8 March 02:00 EST → 03:00 EDT; 1 November 02:00 EDT → 01:00 EST.
  it("hands over at 09:00 local every day across spring forward and fall back", () => {
    const s = schedule("daily-ny", {
      timezone: "America/New_York",
      layers: [{ users: ["UANNA", "UBEN"], rotation: "daily", handoff: "09:00", start: "2026-03-07" }],
    });
    expectTable(s, [
      ["2026-03-07T13:59:00Z", "UBEN"], // Sat 08:59 EST, the shift before the first
      ["2026-03-07T14:00:00Z", "UANNA"], // Sat 09:00 EST
      ["2026-03-08T12:59:00Z", "UANNA"], // Sun 08:59 EDT
      ["2026-03-08T13:00:00Z", "UBEN"], // Sun 09:00 EDT: a 23-hour shift
      ["2026-03-08T13:30:00Z", "UBEN"],
      ["2026-03-09T12:59:00Z", "UBEN"],
      ["2026-03-09T13:00:00Z", "UANNA"],
      ["2026-11-01T05:30:00Z", "UANNA"], // 01:30 EDT, first pass (day 238 from the start: even)
      ["2026-11-01T06:30:00Z", "UANNA"], // 01:30 EST, second pass
      ["2026-11-01T13:30:00Z", "UANNA"], // Sun 08:30 EST: a 25-hour shift
      ["2026-11-01T14:00:00Z", "UBEN"], // Sun 09:00 EST
    ]);
  });

  it("moves a handoff the clock skips to just after the gap, and takes a repeated one the first time", () => {
    const skipped = schedule("gap", {
      timezone: "America/New_York",
      layers: [{ users: ["UANNA", "UBEN"], rotation: "daily", handoff: "02:30", start: "2026-03-06" }],
    });
    expectTable(skipped, [
      ["2026-03-07T07:29:00Z", "UANNA"], // Sat 02:29 EST
      ["2026-03-07T07:30:00Z", "UBEN"], // Sat 02:30 EST
      ["2026-03-08T07:29:00Z", "UBEN"], // Sun 03:29 EDT: 02:30 never happened
      ["2026-03-08T07:30:00Z", "UANNA"], // Sun 03:30 EDT
      ["2026-03-09T06:29:00Z", "UANNA"], // Mon 02:29 EDT
      ["2026-03-09T06:30:00Z", "UBEN"], // Mon 02:30 EDT
    ]);
    const repeated = schedule("overlap", {
      timezone: "America/New_York",
      layers: [{ users: ["UANNA", "UBEN"], rotation: "daily", handoff: "01:30", start: "2026-10-30" }],
    });
    expectTable(repeated, [
      ["2026-10-31T05:30:00Z", "UBEN"], // Sat 01:30 EDT
      ["2026-11-01T05:29:00Z", "UBEN"], // Sun 01:29 EDT
      ["2026-11-01T05:30:00Z", "UANNA"], // Sun 01:30 EDT, the first time the clock shows it
      ["2026-11-01T06:45:00Z", "UANNA"], // 01:45 EST, the hour again: no second handoff
      ["2026-11-02T06:29:00Z", "UANNA"], // Mon 01:29 EST
      ["2026-11-02T06:30:00Z", "UBEN"], // Mon 01:30 EST
    ]);
  });
});

describe("layers with restrictions", () => {
  // A 24/7 weekly layer of night people under a business-hours daily layer, Europe/Berlin.
  const s = schedule("layered", {
    timezone: "Europe/Berlin",
    layers: [
      { name: "24/7", users: ["UNICK", "UNORA"], rotation: "weekly", start: "2026-03-16" },
      {
        name: "business hours",
        users: ["UDANA", "UDEV"],
        rotation: "daily",
        start: "2026-03-16",
        restrictions: [{ days: ["mon", "tue", "wed", "thu", "fri"], from: "09:00", to: "17:00" }],
      },
    ],
  });

  it("lets the business-hours layer win inside its hours and the 24/7 layer outside", () => {
    expectTable(s, [
      ["2026-03-23T07:30:00Z", "UNICK"], // Mon 08:30 CET: before hours, 24/7 week 0
      ["2026-03-23T08:30:00Z", "UDEV"], // Mon 09:30 CET: day 7 of the daily layer
      ["2026-03-23T15:59:00Z", "UDEV"], // Mon 16:59 CET
      ["2026-03-23T16:00:00Z", "UNORA"], // Mon 17:00 CET: after hours, 24/7 week 1
      ["2026-03-24T12:00:00Z", "UDANA"], // Tue 13:00 CET
      ["2026-03-28T12:00:00Z", "UNORA"], // Saturday: no business hours
      ["2026-03-30T06:30:00Z", "UNORA"], // Mon 08:30 CEST
      ["2026-03-30T07:00:00Z", "UDANA"], // Mon 09:00 CEST: day 14
      ["2026-03-30T14:59:00Z", "UDANA"], // Mon 16:59 CEST
      ["2026-03-30T15:00:00Z", "UNICK"], // Mon 17:00 CEST: 24/7 week 2
    ]);
  });

  it("runs a window that ends at or before its start past midnight, and leaves gaps empty", () => {
    const nights = schedule("nights", {
      timezone: "Europe/Berlin",
      layers: [
        {
          users: ["UNICK"],
          rotation: "weekly",
          start: "2026-03-16",
          restrictions: [{ days: ["fri"], from: "18:00", to: "09:00" }],
        },
      ],
    });
    expectTable(nights, [
      ["2026-03-27T16:59:00Z", null], // Fri 17:59 CET
      ["2026-03-27T17:00:00Z", "UNICK"], // Fri 18:00 CET
      ["2026-03-28T07:59:00Z", "UNICK"], // Sat 08:59 CET
      ["2026-03-28T08:00:00Z", null], // Sat 09:00 CET
      ["2026-03-28T17:00:00Z", null], // Sat 18:00: the window starts on Fridays only
    ]);
    const shifts = shiftsBetween(nights, new Date("2026-03-27T00:00:00Z"), new Date("2026-03-29T00:00:00Z"));
    expect(shifts.map((x) => [x.user, x.start.toISOString(), x.end.toISOString()])).toEqual([
      ["UNICK", "2026-03-27T17:00:00.000Z", "2026-03-28T08:00:00.000Z"],
    ]);
  });
});

describe("overrides", () => {
  const s = schedule("weekly-berlin", {
    timezone: "Europe/Berlin",
    layers: [{ users: ["UANNA", "UBEN", "UCARA"], rotation: "weekly", start: "2026-03-16" }],
  });
  const o = (
    id: string,
    user: string,
    from: string,
    to: string,
    extra: Partial<Override> = {},
  ): Override => ({
    id,
    schedule: "weekly-berlin",
    user,
    from: new Date(from),
    to: new Date(to),
    ...extra,
  });
  const acrossHandoff = o("o1", "UOLGA", "2026-03-23T06:00:00Z", "2026-03-23T10:00:00Z");
  const partOfShift = o("o2", "UPAUL", "2026-03-25T12:00:00Z", "2026-03-25T14:00:00Z");
  const wholeDay = o("o3", "UQUIN", "2026-03-26T00:00:00Z", "2026-03-27T00:00:00Z");
  const withinIt = o("o4", "URAY", "2026-03-26T06:00:00Z", "2026-03-26T07:00:00Z");
  const otherSchedule = {
    ...o("o5", "USAM", "2026-03-24T00:00:00Z", "2026-03-25T00:00:00Z"),
    schedule: "other",
  };

  it("covers a handoff and parts of shifts, the last given winning where they nest", () => {
    expectTable(
      s,
      [
        ["2026-03-23T05:59:00Z", "UANNA"],
        ["2026-03-23T06:00:00Z", "UOLGA"],
        ["2026-03-23T08:00:00Z", "UOLGA"], // the handoff UANNA → UBEN falls inside the override
        ["2026-03-23T09:59:00Z", "UOLGA"],
        ["2026-03-23T10:00:00Z", "UBEN"],
        ["2026-03-24T12:00:00Z", "UBEN"], // another schedule's override does not apply
        ["2026-03-25T11:59:00Z", "UBEN"],
        ["2026-03-25T12:00:00Z", "UPAUL"],
        ["2026-03-25T14:00:00Z", "UBEN"],
        ["2026-03-26T05:00:00Z", "UQUIN"],
        ["2026-03-26T06:30:00Z", "URAY"],
        ["2026-03-26T07:00:00Z", "UQUIN"],
        ["2026-03-27T00:00:00Z", "UBEN"],
      ],
      [acrossHandoff, partOfShift, wholeDay, withinIt, otherSchedule],
    );
  });

  it("drops an undone override, giving the shift back to the rotation", () => {
    const undone = { ...partOfShift, undoneAt: new Date("2026-03-25T12:30:00Z") };
    expectTable(s, [["2026-03-25T13:00:00Z", "UBEN"]], [acrossHandoff, undone]);
    expectTable(s, [["2026-03-25T13:00:00Z", "UPAUL"]], [acrossHandoff, partOfShift]);
  });

  it("cuts the shifts where an override starts and ends, naming its source", () => {
    const shifts = shiftsBetween(s, new Date("2026-03-22T00:00:00Z"), new Date("2026-03-24T00:00:00Z"), [
      acrossHandoff,
    ]);
    expect(shifts.map((x) => [x.user, x.start.toISOString(), x.end.toISOString(), x.source])).toEqual([
      [
        "UANNA",
        "2026-03-22T00:00:00.000Z",
        "2026-03-23T06:00:00.000Z",
        { kind: "layer", index: 0, name: "layer 1" },
      ],
      ["UOLGA", "2026-03-23T06:00:00.000Z", "2026-03-23T10:00:00.000Z", { kind: "override", id: "o1" }],
      [
        "UBEN",
        "2026-03-23T10:00:00.000Z",
        "2026-03-24T00:00:00.000Z",
        { kind: "layer", index: 0, name: "layer 1" },
      ],
    ]);
  });
});
