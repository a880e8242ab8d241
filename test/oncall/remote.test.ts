import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { configSchema } from "../../src/config/index.js";
import {
  type CalendarCache,
  createOnCallService,
  fileCalendarCache,
  memoryCalendarCache,
} from "../../src/oncall/index.js";
import { oneModelConfigInput } from "../helpers/bot.js";

const FIXTURE = readFileSync(new URL("./fixtures/ds-oncall-export.ics", import.meta.url), "utf8");
const URL_ = "https://calendar.example.com/ds-oncall/basic.ics";
const clock = { now: () => new Date("2026-03-09T09:00:00Z") };
/** Dev's first fortnight in the fixture: he is on call at this instant. */
const DEV_ON = new Date("2026-03-09T08:00:00Z");

const config = configSchema.parse(
  oneModelConfigInput({
    schedules: {
      "ds-oncall": {
        timezone: "Europe/Berlin",
        ical: {
          url: URL_,
          refresh_every: "15m",
          users: { "dana@example.com": "U0DANA", "dev@example.com": "U0DEV" },
        },
      },
    },
  }),
);

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function service(
  fetchCalendar: (url: string) => Promise<string>,
  cache: CalendarCache = memoryCalendarCache(),
) {
  return createOnCallService({ config, clock, fetchCalendar, cache });
}

describe("a schedule fetched from a URL", () => {
  it("has nobody on call until its first fetch, then answers from the fetched calendar and stores it", async () => {
    const cache = memoryCalendarCache();
    const asked: string[] = [];
    const s = service(async (url) => {
      asked.push(url);
      return FIXTURE;
    }, cache);
    expect(await s.whoIsOn("ds-oncall", DEV_ON)).toBeNull();
    expect(await s.refresh("ds-oncall")).toBe(true);
    expect(asked).toEqual([URL_]);
    expect((await s.whoIsOn("ds-oncall", DEV_ON))?.user).toBe("U0DEV");
    expect(cache.copies.get("ds-oncall")).toBe(FIXTURE);
    expect(s.remoteStatus()).toEqual([{ schedule: "ds-oncall", fetchedAt: clock.now(), error: null }]);
  });

  it("keeps the last good copy when the URL fails, answers garbage, or loses every event", async () => {
    const answers: (() => Promise<string>)[] = [
      async () => FIXTURE,
      async () => {
        throw new Error("HTTP 503");
      },
      async () => "<html>Sign in</html>",
      async () => "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n",
    ];
    let i = 0;
    const s = service(() => (answers[i++] as () => Promise<string>)());
    expect(await s.refresh("ds-oncall")).toBe(true);
    for (const error of ["HTTP 503", "not an iCalendar file", "the calendar has no events"]) {
      expect(await s.refresh("ds-oncall")).toBe(false);
      expect(s.remoteStatus()[0]?.error?.message).toContain(error);
      expect((await s.whoIsOn("ds-oncall", DEV_ON))?.user).toBe("U0DEV");
    }
  });

  it("after a restart with the URL down, answers from the copy stored in the data directory", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mlops-schedules-"));
    dirs.push(dir);
    const first = service(async () => FIXTURE, fileCalendarCache(dir));
    expect(await first.refresh("ds-oncall")).toBe(true);
    expect(readFileSync(join(dir, "ds-oncall.ics"), "utf8")).toBe(FIXTURE);
    const down = async (): Promise<string> => {
      throw new Error("fetch failed");
    };
    const restarted = service(down, fileCalendarCache(dir));
    expect((await restarted.whoIsOn("ds-oncall", DEV_ON))?.user).toBe("U0DEV");
    expect(await restarted.refresh("ds-oncall")).toBe(false);
    expect((await restarted.whoIsOn("ds-oncall", DEV_ON))?.user).toBe("U0DEV");
  });
});
