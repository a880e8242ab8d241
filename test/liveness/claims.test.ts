/**
 * Claims tied to process heartbeats: a process that stops beating (killed, host lost) frees its
 * cron claims, outbox claims and runbook runs within two heartbeats, on Postgres and PGlite; a live
 * one keeps them; a stopping scheduler gives back a claim it never started.
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAccessControl } from "../../src/access/index.js";
import type { Database } from "../../src/db/index.js";
import { createLiveness, createProcessRepository, MISSED_BEATS } from "../../src/liveness/index.js";
import { createOutboxRepository, SLACK_CHANNEL_PACING } from "../../src/outbox/index.js";
import {
  type CommandRunner,
  createRunbookRepository,
  createRunbookService,
} from "../../src/runbooks/index.js";
import { createScheduler } from "../../src/scheduler/index.js";
import { createSlackRunbookNotifier } from "../../src/slack/runbooks/notifier.js";
import { eventually } from "../e2e/incidents-bot.js";
import { demoConfig } from "../helpers/bot.js";
import { openTestDatabase, testLogger } from "../helpers/db.js";
import { manualClock } from "../helpers/monitoring.js";
import { sandboxDispatcher, startOutboxSandbox } from "../outbox/helpers.js";

/** Heartbeats short enough to wait out two of them, long enough that a loaded machine still beats in time. */
const HEARTBEAT_MS = 1_000;

let database: Database;
beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(async () => {
  await database?.close();
});

/** A process that registered and beat once, then went silent (as a SIGKILLed one does). */
async function silentProcess(id: string) {
  const repo = createProcessRepository(database.db);
  await repo.register(id, "host-x", 4000);
  return { id, heartbeatMs: HEARTBEAT_MS, beat: () => repo.beat(id, "host-x", 4000) };
}

/** A process whose last heartbeat was an hour ago (killed long before the test looks). */
async function longDeadProcess(id: string) {
  const p = await silentProcess(id);
  await database.db.execute(
    sql`update processes set heartbeat_at = now() - interval '1 hour' where id = ${id}`,
  );
  return p;
}

describe("cron claims", () => {
  it("a run held by a process that stopped beating no longer blocks the job: the next tick runs elsewhere within two heartbeats", async () => {
    const clock = manualClock(new Date("2030-01-01T10:00:10Z"));
    const dead = await silentProcess("dead-cron:1:aaaa");
    const live = createLiveness({ db: database.db, logger: testLogger, heartbeatMs: HEARTBEAT_MS });
    await live.start();
    try {
      const ran: string[] = [];
      const make = (liveness: { id: string; heartbeatMs: number }, run: () => Promise<void>) => {
        const s = createScheduler({ db: database.db, clock, logger: testLogger, liveness });
        // Every second, and the clock moves a second per attempt: the hour-long age rule never applies.
        s.add({ name: "drift-ish", cron: "* * * * * *", run });
        return s;
      };
      // The dead process claimed 10:00:10 and never finished it (its run hangs for ever).
      const a = make(dead, () => new Promise<void>(() => {}));
      void a.tick("drift-ish");
      await eventually("the first claim", async () => (await a.claims.claimsOf("drift-ish")).length === 1);
      const b = make({ id: live.id, heartbeatMs: HEARTBEAT_MS }, async () => void ran.push("b"));
      // While its process beats, the run in progress is respected: no overlap.
      clock.advance(1_000);
      await dead.beat();
      expect(await b.tick("drift-ish")).toBe("busy");
      // It stops beating: after two heartbeats, and soon after, the next tick runs on b.
      clock.advance(1_000);
      await dead.beat();
      const silentSince = Date.now();
      const result = await eventually(
        "a tick that runs",
        async () => {
          const r = await b.tick("drift-ish");
          if (r === "ran") return r;
          clock.advance(1_000);
          return undefined;
        },
        5_000,
      );
      expect(result).toBe("ran");
      const waited = Date.now() - silentSince;
      expect(waited).toBeGreaterThanOrEqual(HEARTBEAT_MS * MISSED_BEATS - 100);
      expect(waited).toBeLessThan(HEARTBEAT_MS * (MISSED_BEATS + 1) + 1_000);
      expect(ran).toEqual(["b"]);
      const claims = await b.claims.claimsOf("drift-ish");
      // The dead run is recorded as abandoned, not left "in progress".
      expect(claims[0]?.claimedBy).toBe(dead.id);
      expect(claims[0]?.outcome).toBe("abandoned: the process running it stopped");
      expect(claims.at(-1)?.outcome).toBe("ok");
    } finally {
      await live.stop();
    }
  });

  it("a live process's run blocks the next tick however long it takes", async () => {
    const clock = manualClock(new Date("2030-01-02T10:00:10Z"));
    const live = createLiveness({ db: database.db, logger: testLogger, heartbeatMs: HEARTBEAT_MS });
    await live.start();
    let release: () => void = () => {};
    try {
      const s = createScheduler({ db: database.db, clock, logger: testLogger, liveness: live });
      s.add({ name: "slow", cron: "* * * * *", run: () => new Promise<void>((r) => (release = r)) });
      const first = s.tick("slow");
      await eventually("the claim", async () => (await s.claims.claimsOf("slow")).length === 1);
      // Until the process has been beating for longer than two heartbeats since the claim.
      const beatOf = async () =>
        (await createProcessRepository(database.db).all())
          .find((p) => p.id === live.id)
          ?.heartbeatAt.getTime() ?? 0;
      const beatAtClaim = await beatOf();
      await eventually(
        "the process to beat for more than two heartbeats",
        async () => (await beatOf()) - beatAtClaim > HEARTBEAT_MS * (MISSED_BEATS + 0.5),
        10_000,
      );
      clock.advance(60_000);
      expect(await s.tick("slow")).toBe("busy");
      release();
      expect(await first).toBe("ran");
    } finally {
      release();
      await live.stop();
    }
  });

  it("a tick claimed while the scheduler stops is given back unstarted, and another replica runs it", async () => {
    const clock = manualClock(new Date("2030-01-03T10:00:10Z"));
    const ran: string[] = [];
    const make = (id: string) => {
      const s = createScheduler({ db: database.db, clock, logger: testLogger, instanceId: id });
      s.add({ name: "stopping", cron: "* * * * *", run: async () => void ran.push(id) });
      return s;
    };
    const a = make("a");
    await a.stop();
    expect(await a.tick("stopping")).toBe("released");
    expect(await a.claims.claimsOf("stopping")).toEqual([]);
    expect(await make("b").tick("stopping")).toBe("ran");
    expect(ran).toEqual(["b"]);
  });

  it("a graceful stop removes the process's row; a process killed on the embedded database is dead at the next start", async () => {
    const repo = createProcessRepository(database.db);
    const first = createLiveness({
      db: database.db,
      logger: testLogger,
      heartbeatMs: 60_000,
      id: "gone:1:aa",
    });
    await first.start();
    expect((await repo.all()).map((p) => p.id)).toContain("gone:1:aa");
    await first.stop();
    expect((await repo.all()).map((p) => p.id)).not.toContain("gone:1:aa");

    // Killed: its row stays, with a heartbeat that looks fresh (beats are a minute apart).
    const killed = await silentProcess("killed:2:bb");
    const clock = manualClock(new Date("2030-01-04T10:00:10Z"));
    const a = createScheduler({
      db: database.db,
      clock,
      logger: testLogger,
      liveness: { ...killed, heartbeatMs: 60_000 },
    });
    a.add({ name: "after-kill", cron: "* * * * *", run: () => new Promise<void>(() => {}) });
    void a.tick("after-kill");
    await eventually("the claim", async () => (await a.claims.claimsOf("after-kill")).length === 1);
    // The next process on a data directory only it may use knows at once that the killed one is dead.
    const next = createLiveness({
      db: database.db,
      logger: testLogger,
      heartbeatMs: 60_000,
      singleProcess: true,
    });
    await next.start();
    try {
      const b = createScheduler({ db: database.db, clock, logger: testLogger, liveness: next });
      b.add({ name: "after-kill", cron: "* * * * *", run: async () => {} });
      clock.advance(60_000);
      expect(await b.tick("after-kill")).toBe("ran");
    } finally {
      await next.stop();
    }
  });
});

describe("outbox claims", () => {
  it("a row claimed by a process that stopped beating is taken back at once, long before its lease ends", async () => {
    const repo = createOutboxRepository(database.db);
    const now = new Date();
    const dead = await longDeadProcess("dead-outbox:1:cc");
    const live = createLiveness({ db: database.db, logger: testLogger, heartbeatMs: HEARTBEAT_MS });
    await live.start();
    try {
      const ids = [
        await repo.enqueue(
          { method: "chat.postMessage", channel: "#a", payload: { text: "by the dead one" } },
          now,
        ),
        await repo.enqueue(
          { method: "chat.postMessage", channel: "#b", payload: { text: "by the live one" } },
          now,
        ),
        await repo.enqueue(
          { method: "chat.postMessage", channel: "#c", payload: { text: "by nobody known" } },
          now,
        ),
      ];
      const claim = (by: string | undefined) =>
        repo.claim({ now, limit: 1, leaseMs: 60_000, pacing: SLACK_CHANNEL_PACING, by });
      expect((await claim(dead.id)).map((r) => r.id)).toEqual([ids[0]]);
      expect((await claim(live.id)).map((r) => r.id)).toEqual([ids[1]]);
      expect((await claim(undefined)).map((r) => r.id)).toEqual([ids[2]]);
      expect((await repo.byId(ids[0] as number))?.claimedBy).toBe(dead.id);
      // The dead process's row is taken back at once; the others keep their lease.
      expect(await repo.releaseExpired({ heartbeatMs: HEARTBEAT_MS })).toBe(1);
      const states = await Promise.all(ids.map(async (id) => (await repo.byId(id))?.state));
      expect(states).toEqual(["pending", "sending", "sending"]);
      expect((await repo.byId(ids[0] as number))?.claimedBy).toBeNull();
      // The lease (database clock) still frees the others when it runs out.
      await database.db.execute(
        sql`update outbox set lease_until = now() - interval '1 second' where state = 'sending'`,
      );
      expect(await repo.releaseExpired({ heartbeatMs: HEARTBEAT_MS })).toBe(2);
    } finally {
      await live.stop();
    }
  });
});

describe("outbox delivery", () => {
  it("a row a dead replica's dispatcher held is delivered once by the live one, long before its 60 s lease ends", async () => {
    const sandbox = await startOutboxSandbox();
    const live = createLiveness({ db: database.db, logger: testLogger, heartbeatMs: HEARTBEAT_MS });
    await live.start();
    const dispatcher = sandboxDispatcher(database, sandbox, { releaseEveryMs: 50, liveness: live });
    try {
      const repo = createOutboxRepository(database.db);
      const channel = sandbox.workspace.addChannel({ name: "liveness-outbox" }).id;
      const id = await repo.enqueue(
        { method: "chat.postMessage", channel, payload: { text: "held by the dead" } },
        new Date(),
      );
      const dead = await longDeadProcess("dead-dispatcher:1:ee");
      const claimed = await repo.claim({
        now: new Date(),
        limit: 100,
        leaseMs: 60_000,
        pacing: SLACK_CHANNEL_PACING,
        by: dead.id,
      });
      expect(claimed.map((r) => r.id)).toContain(id);
      const started = Date.now();
      await dispatcher.start();
      await eventually(
        "the row to be delivered",
        async () => (await repo.byId(id))?.state === "sent",
        10_000,
      );
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(sandbox.workspace.messages(channel).map((m) => m.text)).toEqual(["held by the dead"]);
      expect((await repo.byId(id))?.claimedBy).toBe(live.id);
    } finally {
      await dispatcher.stop();
      await live.stop();
      await sandbox.close();
    }
  });
});

describe("runbook runs", () => {
  const NOW = new Date();
  const runner: CommandRunner = {
    run: () => Promise.reject(new Error("nothing runs in this test")),
    endOrphan: () => false,
  };
  const service = (owner: string) =>
    createRunbookService({
      db: database.db,
      clock: { now: () => new Date() },
      config: demoConfig(),
      access: createAccessControl(demoConfig(), { members: async () => [] }),
      notifier: createSlackRunbookNotifier({ clock: { now: () => new Date() }, wake: () => {} }),
      runner,
      logger: testLogger,
      runbooks: [],
      snapshot: () => Promise.reject(new Error("no incidents here")),
      hostEnv: {},
      owner,
      livenessHeartbeatMs: HEARTBEAT_MS,
      databaseKind: "postgres",
      limits: { staleAfterMs: 60_000 },
    });
  // One active run per runbook and incident: each simulated run gets a runbook of its own.
  const running = (owner: string) =>
    createRunbookRepository(database.db).insert({
      runbook: `restart-service-${owner}`,
      actor: "U0OLIVIA",
      via: "command",
      params: {},
      status: "running",
      startedAt: NOW,
      owner,
      pid: null,
      // The run's own heartbeat is fresh: only its process's liveness says it is dead.
      heartbeatAt: NOW,
      channel: "C0FRAUD",
    });

  it("a run whose process stopped beating is interrupted at once, however fresh its own heartbeat; a live process's run is not", async () => {
    const dead = await longDeadProcess("dead-runbook:1:dd");
    const live = createLiveness({ db: database.db, logger: testLogger, heartbeatMs: HEARTBEAT_MS });
    await live.start();
    try {
      const deadRun = await running(dead.id);
      const liveRun = await running(live.id);
      const sweeper = service(live.id);
      const found = await sweeper.recoverInterrupted();
      expect(found.map((r) => r.id)).toEqual([deadRun.id]);
      const repo = createRunbookRepository(database.db);
      expect((await repo.byId(deadRun.id))?.status).toBe("interrupted");
      expect((await repo.byId(liveRun.id))?.status).toBe("running");
      await repo.finish(liveRun.id, { status: "succeeded" });
    } finally {
      await live.stop();
    }
  });
});
