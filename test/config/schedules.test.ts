import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../../src/config/index.js";
import { buildSchedules } from "../../src/oncall/index.js";
import { configProblems, demoConfigText } from "../helpers/config.js";

const demo = demoConfigText;
const problems = configProblems;

describe("schedules in the config", () => {
  it("accepts the demo's ds-oncall: a weekly rotation of the two L2 people, handoff 09:00 Berlin", () => {
    const config = parseConfig(demo, "mlops.config.yaml", {});
    const s = config.schedules["ds-oncall"];
    expect(s?.timezone).toBe("Europe/Berlin");
    expect(s?.layers?.[0]).toMatchObject({ users: ["U0DANA", "U0DEV"], rotation: "weekly", handoff: 540 });
    const l2 = config.sandbox.users.filter((u) => u.groups.includes("l2")).map((u) => u.id);
    expect(s?.layers?.[0]?.users).toEqual(l2);
  });

  it("refuses an unknown time zone, naming the key and line", () => {
    const p = problems(demo.replace("    timezone: Europe/Berlin\n", "    timezone: Europe/Atlantis\n"));
    expect(p).toEqual([
      expect.stringMatching(/^schedules\.ds-oncall\.timezone \(line \d+\): expected an IANA time zone/),
    ]);
  });

  it("refuses a handoff of 25:00", () => {
    const p = problems(demo.replace('handoff: "09:00"', 'handoff: "25:00"'));
    expect(p).toEqual([
      expect.stringMatching(
        /^schedules\.ds-oncall\.layers\[0\]\.handoff \(line \d+\): expected a time of day HH:MM from 00:00 to 23:59/,
      ),
    ]);
  });

  it("refuses a layer without people, and a schedule without layers", () => {
    expect(problems(demo.replace("users: [U0DANA, U0DEV]", "users: []"))).toEqual([
      expect.stringMatching(
        /^schedules\.ds-oncall\.layers\[0\]\.users \(line \d+\): a layer needs at least one person$/,
      ),
    ]);
    const noLayers = demo.replace(/ {4}layers:\n( {6}.*\n| {8}.*\n)+/, "    layers: []\n");
    expect(noLayers).not.toBe(demo);
    expect(problems(noLayers)).toEqual([
      expect.stringMatching(/^schedules\.ds-oncall\.layers .*a schedule needs at least one layer$/),
    ]);
  });

  it("refuses a restriction ending at 24:01 and an unknown weekday", () => {
    const p = problems(
      demo.replace(
        "        start: 2026-01-05",
        '        start: 2026-01-05\n        restrictions: [{ days: [mon, funday], from: "09:00", to: "24:01" }]',
      ),
    );
    expect(p).toEqual([
      expect.stringMatching(/^schedules\.ds-oncall\.layers\[0\]\.restrictions\[0\]\.days\[1\] .*/),
      expect.stringMatching(/^schedules\.ds-oncall\.layers\[0\]\.restrictions\[0\]\.to .*00:00 to 24:00/),
    ]);
  });

  it("refuses a tier naming a schedule that does not exist, listing the known ones", () => {
    const p = problems(
      demo.replace(
        "l2: { group: l2, wait: 15m, dm: true }",
        "l2: { group: l2, wait: 15m, dm: true, schedule: ds-on-call }",
      ),
    );
    expect(p).toEqual([
      expect.stringMatching(
        /^escalation\.default\.l2\.schedule \(line \d+\): unknown schedule 'ds-on-call' \(expected one of: ds-oncall\)$/,
      ),
    ]);
  });

  it("takes group: none with a schedule (a schedule-only tier), and refuses it without one", () => {
    const alone = parseConfig(
      demo.replace(
        "l2: { group: l2, wait: 15m, dm: true }",
        "l2: { group: none, wait: 15m, dm: true, schedule: ds-oncall }",
      ),
      "t.yaml",
      {},
    );
    expect(alone.escalation.default.l2).toMatchObject({ group: "none", schedule: "ds-oncall" });
    const p = problems(
      demo.replace(
        "critical: { start: l2, l2: { wait: 15m } }",
        "critical: { start: l2, l2: { group: none } }",
      ),
    );
    expect(p).toEqual([
      expect.stringMatching(
        /^escalation\.severity\.critical\.l2\.group \(line \d+\): 'none' pages only whoever is on call in the tier's schedule, and escalation\.severity\.critical\.l2 has no schedule/,
      ),
    ]);
  });

  it("refuses a schedule with both layers and ical, or neither", () => {
    const both = demo.replace(
      "    timezone: Europe/Berlin\n",
      "    timezone: Europe/Berlin\n    ical: { file: oncall.ics }\n",
    );
    expect(problems(both)).toEqual([
      expect.stringMatching(/^schedules\.ds-oncall\.ical .*either layers or ical, not both$/),
    ]);
    const neither = demo.replace(/ {4}layers:\n( {6}.*\n| {8}.*\n)+/, "");
    expect(problems(neither)).toEqual([
      expect.stringMatching(
        /^schedules\.ds-oncall\.layers \(line \d+\): required key missing \(expected layers of rotations, or ical: an iCal file\)$/,
      ),
    ]);
  });

  it("stops the start naming schedules.<name>.ical.file when the imported file is missing or not iCalendar", () => {
    const config = parseConfig(
      demo.replace(/ {4}layers:\n( {6}.*\n| {8}.*\n)+/, "    ical: { file: ./missing.ics }\n"),
      "test.yaml",
      {},
    );
    expect(() => buildSchedules(config)).toThrow(ConfigError);
    expect(() => buildSchedules(config)).toThrow(
      /schedules\.ds-oncall\.ical\.file: file not found: \.\/missing\.ics/,
    );
    expect(() => buildSchedules(config, () => "not a calendar")).toThrow(
      /schedules\.ds-oncall\.ical\.file: \.\/missing\.ics: not an iCalendar file/,
    );
  });
});

describe("a schedule fetched from a URL in the config", () => {
  const withIcal = (ical: string) => demo.replace(/ {4}layers:\n( {6}.*\n| {8}.*\n)+/, `    ical: ${ical}\n`);

  it("accepts a url with a refresh interval (1h by default)", () => {
    const config = parseConfig(withIcal("{ url: https://calendar.example.com/x.ics }"), "test.yaml", {});
    expect(config.schedules["ds-oncall"]?.ical).toMatchObject({ refresh_every: 3_600_000 });
  });

  it("refuses both file and url, neither, and a refresh under a minute", () => {
    expect(problems(withIcal("{ file: a.ics, url: https://calendar.example.com/x.ics }"))).toEqual([
      expect.stringMatching(/^schedules\.ds-oncall\.ical\.url .*either file or url, not both$/),
    ]);
    expect(problems(withIcal("{ users: {} }"))).toEqual([
      expect.stringMatching(/^schedules\.ds-oncall\.ical\.file .*expected file \(a path\) or url/),
    ]);
    expect(problems(withIcal("{ url: https://calendar.example.com/x.ics, refresh_every: 30s }"))).toEqual([
      expect.stringMatching(/^schedules\.ds-oncall\.ical\.refresh_every .*at least 1m/),
    ]);
  });
});
