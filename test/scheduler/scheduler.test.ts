import { spawn } from "node:child_process";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resultRows } from "../../src/db/client.js";
import type { Database } from "../../src/db/index.js";
import { createScheduler, latestTick } from "../../src/scheduler/index.js";
import { eventually } from "../e2e/incidents-bot.js";
import { openTestDatabase, TEST_DATABASE_URL, testLogger } from "../helpers/db.js";
import { manualClock } from "../helpers/monitoring.js";
import { ROOT } from "../helpers/process.js";

let database: Database & { url: string | undefined };
beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(async () => {
  await database?.close();
});

describe("latestTick", () => {
  it("names the most recent time the expression fires, in UTC", () => {
    const now = new Date("2026-11-26T10:07:31Z");
    expect(latestTick("*/5 * * * *", now)?.toISOString()).toBe("2026-11-26T10:05:00.000Z");
    expect(latestTick("0 * * * *", now)?.toISOString()).toBe("2026-11-26T10:00:00.000Z");
    expect(latestTick("0 9 * * 1-5", now)?.toISOString()).toBe("2026-11-26T09:00:00.000Z");
    expect(latestTick("*/10 * * * * *", now)?.toISOString()).toBe("2026-11-26T10:07:30.000Z");
    expect(latestTick("7 10 * * *", now)?.toISOString()).toBe("2026-11-26T10:07:00.000Z");
    expect(latestTick("8 10 * * *", now)?.toISOString()).toBe("2026-11-25T10:08:00.000Z");
  });
});

describe("claims", () => {
  it("two schedulers on one database: a tick runs once, whoever fires it", async () => {
    const clock = manualClock(new Date("2026-11-26T10:05:20Z"));
    const ran: string[] = [];
    const make = (id: string) => {
      const s = createScheduler({ db: database.db, clock, logger: testLogger, instanceId: id });
      s.add({ name: "job-a", cron: "*/5 * * * *", run: async () => void ran.push(id) });
      return s;
    };
    const [a, b] = [make("a"), make("b")];
    const results = await Promise.all([a.tick("job-a"), b.tick("job-a"), a.tick("job-a")]);
    expect(results.filter((r) => r === "ran")).toHaveLength(1);
    expect(results.filter((r) => r === "taken")).toHaveLength(2);
    expect(ran).toHaveLength(1);
    clock.advance(5 * 60_000);
    expect(await b.tick("job-a")).toBe("ran");
    expect(ran).toHaveLength(2);
  });

  it("no overlap: a tick that comes while the previous run is still going is skipped and recorded", async () => {
    const clock = manualClock(new Date("2026-11-26T11:00:10Z"));
    let release: () => void = () => {};
    const s = createScheduler({ db: database.db, clock, logger: testLogger, instanceId: "solo" });
    s.add({ name: "slow", cron: "* * * * *", run: () => new Promise<void>((r) => (release = r)) });
    const first = s.tick("slow");
    await new Promise((r) => setTimeout(r, 50));
    clock.advance(60_000);
    expect(await s.tick("slow")).toBe("busy");
    release();
    expect(await first).toBe("ran");
    const claims = await s.claims.claimsOf("slow");
    expect(claims.map((c) => c.outcome)).toEqual(["ok", "skipped: previous run still in progress"]);
  });

  it("after downtime the missed ticks collapse into one catch-up run, not a burst", async () => {
    const clock = manualClock(new Date("2026-11-26T12:00:05Z"));
    const ran: Date[] = [];
    const make = () => {
      const s = createScheduler({ db: database.db, clock, logger: testLogger, instanceId: "r" });
      s.add({ name: "hourly", cron: "*/5 * * * *", run: async (t) => void ran.push(t) });
      return s;
    };
    const before = make();
    expect(await before.tick("hourly")).toBe("ran");
    // Down for 47 minutes: nine ticks missed.
    clock.advance(47 * 60_000);
    const after = make();
    after.start();
    // (A stop before the catch-up claims its tick would give the tick back unstarted.)
    await eventually("the catch-up run", () => ran.length === 2);
    await after.stop();
    expect(ran.map((d) => d.toISOString())).toEqual(["2026-11-26T12:00:00.000Z", "2026-11-26T12:45:00.000Z"]);
  });
});

describe.skipIf(!TEST_DATABASE_URL)("two scheduler processes on one Postgres", () => {
  it("run each tick once, and never overlap", async () => {
    const url = database.url as string;
    const admin = postgres(url, { max: 1, onnotice: () => {} });
    await admin`create table sched_runs (tick_at timestamptz, replica text, started_at timestamptz, finished_at timestamptz)`;
    const child = (name: string) =>
      new Promise<string>((resolve, reject) => {
        const p = spawn(
          process.execPath,
          ["--import", "tsx", "test/scheduler/scheduler-child.ts", url, name, "300", "5200"],
          {
            cwd: ROOT,
            env: { PATH: process.env.PATH ?? "" },
            stdio: ["ignore", "pipe", "pipe"],
          },
        );
        let out = "";
        p.stdout.on("data", (d) => (out += d));
        p.stderr.on("data", (d) => (out += d));
        p.on("exit", (code) =>
          code === 0 ? resolve(out) : reject(new Error(`child ${name} exited ${code}: ${out}`)),
        );
      });
    await Promise.all([child("one"), child("two")]);
    const runs = await admin<{ tick_at: Date; replica: string; started_at: Date; finished_at: Date }[]>`
      select tick_at, replica, started_at, finished_at from sched_runs order by tick_at`;
    await admin.end();
    expect(runs.length).toBeGreaterThanOrEqual(3);
    const ticks = runs.map((r) => r.tick_at.toISOString());
    expect(new Set(ticks).size).toBe(ticks.length);
    for (let i = 1; i < runs.length; i++)
      expect((runs[i] as (typeof runs)[number]).started_at.getTime()).toBeGreaterThanOrEqual(
        (runs[i - 1] as (typeof runs)[number]).finished_at.getTime() - 5,
      );
    const claims = resultRows<{ n: number; runs: number }>(
      await database.db.execute(
        sql`select count(*)::int as n, count(*) filter (where outcome = 'ok')::int as runs from cron_claims where job = 'probe-job'`,
      ),
    )[0];
    expect(claims?.runs).toBe(runs.length);
  }, 30_000);
});
