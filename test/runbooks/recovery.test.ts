import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAccessControl } from "../../src/access/index.js";
import { createApiTokenService } from "../../src/api-tokens/index.js";
import type { Database } from "../../src/db/index.js";
import { createOutboxRepository } from "../../src/outbox/index.js";
import {
  type CommandRunner,
  createRunbookRepository,
  createRunbookService,
  type RunbookRun,
} from "../../src/runbooks/index.js";
import { issueRunToken } from "../../src/runbooks/run-tokens.js";
import { createSlackRunbookNotifier } from "../../src/slack/runbooks/notifier.js";
import { demoConfig } from "../helpers/bot.js";
import { openTestDatabase, testLogger } from "../helpers/db.js";

let database: Database;
beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(async () => {
  await database?.close();
});

const NOW = new Date("2030-03-01T12:00:00Z");
const ended: number[] = [];
const runner: CommandRunner = {
  run: () => Promise.reject(new Error("nothing runs in this test")),
  endOrphan: (pid) => {
    ended.push(pid);
    return true;
  },
};

function service(kind: "postgres" | "pglite", owner = "hostA:1:aaaa") {
  return createRunbookService({
    db: database.db,
    clock: { now: () => NOW },
    config: demoConfig(),
    access: createAccessControl(demoConfig(), { members: async () => [] }),
    notifier: createSlackRunbookNotifier({ clock: { now: () => NOW }, wake: () => {} }),
    runner,
    logger: testLogger,
    runbooks: [],
    snapshot: () => Promise.reject(new Error("no incidents here")),
    hostEnv: {},
    owner,
    databaseKind: kind,
    limits: { staleAfterMs: 60_000 },
  });
}

let runbookSeq = 0;

async function running(heartbeatAgoMs: number, owner: string, pid: number | null): Promise<RunbookRun> {
  return createRunbookRepository(database.db).insert({
    // One active run per runbook and incident: each simulated run is of its own runbook.
    runbook: `restart-service-${++runbookSeq}`,
    actor: "U0OLIVIA",
    via: "command",
    params: {},
    status: "running",
    startedAt: new Date(NOW.getTime() - 120_000),
    owner,
    pid,
    heartbeatAt: new Date(NOW.getTime() - heartbeatAgoMs),
    channel: "C0FRAUD",
  });
}

describe("runs left running when their process died", () => {
  it("with several replicas (Postgres), only runs whose heartbeat stopped are marked interrupted", async () => {
    const live = await running(5_000, "hostB:7:bbbb", 4242);
    const dead = await running(300_000, "hostA:9:cccc", 4343);
    const deadElsewhere = await running(300_000, "hostC:3:dddd", 4444);
    const found = await service("postgres").recoverInterrupted();
    expect(found.map((r) => r.id).sort()).toEqual([dead.id, deadElsewhere.id].sort());
    const repo = createRunbookRepository(database.db);
    expect((await repo.byId(live.id))?.status).toBe("running");
    expect((await repo.byId(dead.id))?.status).toBe("interrupted");
    // A program is only ended on the host that ran it; another host's pid means nothing here.
    expect(ended).toEqual([4343]);
    // The channel is told (the run had no incident): the progress post and the reply.
    const rows = await createOutboxRepository(database.db).byIds([...Array(50).keys()].map((i) => i + 1));
    const told = rows.filter((r) => JSON.stringify(r.payload).includes(`(run ${dead.id}) was *interrupted*`));
    expect(told).toHaveLength(1);
    // A second start finds nothing more to do.
    expect(await service("postgres").recoverInterrupted()).toEqual([]);
    await repo.finish(live.id, { status: "succeeded" });
  });

  it("with the embedded database (one process), every running run is interrupted, however fresh its heartbeat", async () => {
    const fresh = await running(1_000, "hostA:1:eeee", null);
    const found = await service("pglite").recoverInterrupted();
    expect(found.map((r) => r.id)).toEqual([fresh.id]);
    expect((await createRunbookRepository(database.db).byId(fresh.id))?.status).toBe("interrupted");
  });

  it("an interrupted run's own API token stops working, so a program that outlived its bot cannot use it", async () => {
    const run = await running(1_000, "hostA:1:ffff", null);
    const token = await issueRunToken(database.db, run.id, ["admin"]);
    const tokens = createApiTokenService(database.db, { now: () => NOW });
    expect(await tokens.verify(token)).toMatchObject({
      tokenName: `runbook-run-${run.id}`,
      scopes: ["admin"],
    });
    expect((await service("pglite").recoverInterrupted()).map((r) => r.id)).toEqual([run.id]);
    expect(await tokens.verify(token)).toBeNull();
  });
});
