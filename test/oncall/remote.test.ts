import { readFileSync } from "node:fs";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configSchema } from "../../src/config/index.js";
import type { Database } from "../../src/db/index.js";
import { oncallCalendars, outbox } from "../../src/db/schema/index.js";
import type { CalendarFetch } from "../../src/oncall/index.js";
import { createOnCallFeature, type OnCallFeature } from "../../src/wiring/oncall-feature.js";
import { oneModelConfigInput } from "../helpers/bot.js";
import { openTestDatabase } from "../helpers/db.js";
import { featureContext, manualClock } from "../helpers/monitoring.js";

const FIXTURE = readFileSync(new URL("./fixtures/ds-oncall-export.ics", import.meta.url), "utf8");
const URL_ = "https://calendar.example.com/ds-oncall/basic.ics?token=s3cret";
/** Monday 9 March 2026 09:00Z; Dev's first fortnight in the fixture. */
const T0 = Date.parse("2026-03-09T09:00:00Z");
const MIN = 60_000;
const DEV_ON = new Date("2026-03-09T08:00:00Z");
const clock = manualClock(new Date(T0));

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

/** What the fake feed answers next, and what it was asked. */
let answer: () => Promise<CalendarFetch> = async () => ({ text: FIXTURE, etag: '"v1"' });
const asked: { url: string; etag: string | null | undefined }[] = [];
const fetchCalendar = (url: string, etag?: string | null) => {
  asked.push({ url, etag });
  return answer();
};

let database: Database;
let replicas: OnCallFeature[];
beforeAll(async () => {
  database = await openTestDatabase();
  replicas = ["replica-a", "replica-b"].map((instanceId) =>
    createOnCallFeature(featureContext(database, config, clock), { instanceId, fetchCalendar }),
  );
});
afterAll(async () => {
  await database?.close();
});

/** Both replicas fire the tick at `T0 + minutes`, then each loads what is stored. */
async function tickBoth(minutes: number): Promise<string[]> {
  clock.set(new Date(T0 + minutes * MIN));
  const results = await Promise.all(replicas.map((r) => r.scheduler.tick("oncall:calendar-refresh")));
  for (const r of replicas) await r.calendars.sync();
  return results.sort();
}
const onCall = () =>
  Promise.all(replicas.map(async (r) => (await r.oncall.whoIsOn("ds-oncall", DEV_ON))?.user));
const alerts = async () =>
  (await database.db.select().from(outbox).where(eq(outbox.channel, config.workspace.alert_channel))).map(
    (m) => String((m.payload as { text?: string }).text),
  );

describe("a schedule fetched from a URL on a claimed tick, its copy in Postgres", () => {
  it("is fetched once per interval across two replicas, and both answer from the stored copy", async () => {
    expect(await onCall()).toEqual([undefined, undefined]);
    expect(await tickBoth(0)).toEqual(["ran", "taken"]);
    expect(asked).toEqual([{ url: URL_, etag: null }]);
    expect(await onCall()).toEqual(["U0DEV", "U0DEV"]);
    const [row] = await database.db.select().from(oncallCalendars);
    expect(row).toMatchObject({ schedule: "ds-oncall", text: FIXTURE, etag: '"v1"', failingSince: null });
    // Not due again until refresh_every (15 min) is up; then the ETag goes along, and a 304 keeps the copy.
    await tickBoth(14);
    expect(asked).toHaveLength(1);
    answer = async () => ({ notModified: true });
    await tickBoth(15);
    expect(asked.at(-1)).toEqual({ url: URL_, etag: '"v1"' });
    expect(await onCall()).toEqual(["U0DEV", "U0DEV"]);
    expect(await alerts()).toEqual([]);
  });

  it("keeps the last good copy through a failing streak, alerts once with no secret in it, and notes the recovery", async () => {
    const bad: (() => Promise<CalendarFetch>)[] = [
      async () => {
        throw new Error("HTTP 503");
      },
      async () => ({ text: "<html>Sign in</html>", etag: null }),
      async () => ({ text: "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n", etag: null }),
    ];
    // Due at 30; while it fails it is tried every 5 minutes.
    for (const [i, next] of bad.entries()) {
      answer = next;
      await tickBoth(30 + 5 * i);
      expect(await onCall()).toEqual(["U0DEV", "U0DEV"]);
      for (const r of replicas)
        expect(r.oncall.remoteStatus()[0]?.staleSince).toEqual(new Date(T0 + 30 * MIN));
    }
    expect(asked).toHaveLength(5);
    expect(replicas[1]?.oncall.remoteStatus()[0]?.error?.message).toContain("the calendar has no events");
    const failing = await alerts();
    expect(failing).toHaveLength(1);
    expect(failing[0]).toContain("*ds-oncall* could not be fetched from calendar.example.com: HTTP 503");
    expect(failing[0]).toContain("the copy fetched 2026-03-09 09:15 UTC");
    expect(failing[0]).not.toContain("s3cret");

    answer = async () => ({ text: FIXTURE, etag: '"v2"' });
    await tickBoth(45);
    const all = await alerts();
    expect(all).toHaveLength(2);
    expect(all[1]).toContain("*ds-oncall* could be fetched again");
    expect(all[1]).toContain("stale since 2026-03-09 09:30 UTC");
    expect(replicas[0]?.oncall.remoteStatus()[0]).toMatchObject({ staleSince: null, error: null });
  });

  it("a replica started while the URL is down answers from the stored copy", async () => {
    answer = async () => {
      throw new Error("unreachable (ECONNREFUSED)");
    };
    const restarted = createOnCallFeature(featureContext(database, config, clock), {
      instanceId: "replica-c",
      fetchCalendar,
    });
    expect(await restarted.oncall.whoIsOn("ds-oncall", DEV_ON)).toBeNull();
    await restarted.calendars.sync();
    expect((await restarted.oncall.whoIsOn("ds-oncall", DEV_ON))?.user).toBe("U0DEV");
  });
});
