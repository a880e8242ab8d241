/**
 * A replica SIGKILLed in the middle of a scheduled drift run: the other replica, which respected
 * the run while its process lived, runs the next drift tick within two heartbeats of the kill,
 * instead of finding the job busy for an hour. Two bot processes on one Postgres.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import { type SandboxServer, startSandboxServer } from "../../src/slack/sandbox/index.js";
import { sandboxSeedFromConfig } from "../../src/slack/sandbox-seed.js";
import { eventually } from "../e2e/incidents-bot.js";
import { demoConfig } from "../helpers/bot.js";
import { createEmptyPostgresDatabase, TEST_DATABASE_URL } from "../helpers/db.js";
import { type BotProcess, freePort, spawnBot, waitForStatus } from "../helpers/process.js";
import { clusterUnavailableReason, startPgCluster } from "./pg-cluster.js";

const BOT_TOKEN = "xoxb-liveness-test-token";
const JOB = "monitor:fraud-detector:drift";
const HEARTBEAT_MS = 1_000;
/** The drift schedule of this test: every second. */
const TICK_MS = 1_000;
const noPostgres = clusterUnavailableReason() && !TEST_DATABASE_URL;
if (noPostgres) console.warn(`skipping the liveness test: ${noPostgres} and TEST_DATABASE_URL is not set`);

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** A Postgres database of its own: a throwaway cluster when the binaries exist, else TEST_DATABASE_URL. */
async function database(): Promise<string> {
  if (!clusterUnavailableReason()) {
    const cluster = await startPgCluster();
    cleanups.push(() => cluster.destroy());
    return cluster.url;
  }
  const created = await createEmptyPostgresDatabase();
  cleanups.push(() => created.drop());
  return created.url;
}

interface Claim {
  tick_at: Date;
  claimed_by: string;
  claimed_at: Date;
  finished_at: Date | null;
  outcome: string | null;
}

describe.skipIf(noPostgres)("a replica killed during a scheduled drift run", () => {
  it("the next drift tick runs on the other replica within two heartbeats", async () => {
    const url = await database();
    const sandbox: SandboxServer = await startSandboxServer({
      token: BOT_TOKEN,
      seed: sandboxSeedFromConfig(demoConfig()),
    });
    cleanups.push(() => sandbox.close());
    const dir = mkdtempSync(join(tmpdir(), "mlops-liveness-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const shipped = readFileSync(new URL("../../mlops.config.yaml", import.meta.url), "utf8");
    const driftSchedule = /(drift:\s*\n\s*schedule: )"[^"]+"/;
    expect(shipped).toMatch(driftSchedule);
    expect(shipped).not.toMatch(/^liveness:/m);
    const configPath = join(dir, "mlops.config.yaml");
    writeFileSync(
      configPath,
      `${shipped.replace(driftSchedule, '$1"* * * * * *"')}\nliveness:\n  heartbeat: ${HEARTBEAT_MS}ms\n`,
    );

    const ports = [await freePort(), await freePort()];
    const bots: BotProcess[] = ports.map((port) =>
      spawnBot({
        PORT: String(port),
        HOST: "127.0.0.1",
        LOG_LEVEL: "error",
        DATABASE_URL: url,
        MLOPS_CONFIG: configPath,
        SLACK_BOT_TOKEN: BOT_TOKEN,
        SLACK_SIGNING_SECRET: "liveness-test-signing-secret",
        SLACK_API_URL: sandbox.apiUrl,
      }),
    );
    cleanups.push(() => {
      for (const b of bots)
        if (b.child.exitCode === null && b.child.signalCode === null) b.child.kill("SIGKILL");
    });
    await Promise.all(ports.map((p) => waitForStatus(`http://127.0.0.1:${p}/readyz`, 60_000)));

    const sql = postgres(url, { max: 2, onnotice: () => {} });
    cleanups.push(() => sql.end());
    const claims = () =>
      sql<Claim[]>`select tick_at, claimed_by, claimed_at, finished_at, outcome from cron_claims
        where job = ${JOB} order by tick_at`;
    const pidOf = async (processId: string) =>
      (await sql<{ pid: number }[]>`select pid from processes where id = ${processId}`)[0]?.pid;
    await eventually(
      "a drift run to finish",
      async () => (await claims()).some((c) => c.outcome === "ok"),
      30_000,
    );

    // Hold drift runs inside: a run reads monitor_runs, which this lock makes it wait for.
    const lock = await sql.reserve();
    cleanups.push(() => lock.release());
    await lock`begin`;
    await lock`lock table monitor_runs in access exclusive mode`;
    const stuck = await eventually(
      "a drift run to hang",
      async () => (await claims()).find((c) => c.finished_at === null),
      30_000,
    );
    const victimPid = await pidOf(stuck.claimed_by);
    const killed = bots.find((b) => b.child.pid === victimPid);
    const survivor = bots.find((b) => b !== killed);
    expect(killed, `no bot has pid ${victimPid}`).toBeDefined();
    const survivorId = (
      await sql<{ id: string }[]>`select id from processes where pid = ${survivor?.child.pid as number}`
    )[0]?.id;
    expect(survivorId).toBeDefined();
    // While the victim lives, the other replica respects its run: its ticks find the job busy.
    await eventually(
      "the other replica to skip a tick as busy",
      async () =>
        (await claims()).some(
          (c) => c.claimed_by === survivorId && c.outcome === "skipped: previous run still in progress",
        ),
      10_000,
    );

    (killed as BotProcess).child.kill("SIGKILL");
    const killedAt = Date.now();
    expect((await (killed as BotProcess).exited).signal).toBe("SIGKILL");
    await lock`commit`;
    lock.release();

    const next = await eventually(
      "a drift tick run by the other replica after the kill",
      async () =>
        (await claims()).find(
          (c) => c.claimed_by === survivorId && c.outcome === "ok" && c.tick_at > stuck.tick_at,
        ),
      30_000,
    );
    const after = next.claimed_at.getTime() - killedAt;
    console.log(
      `liveness: the next drift tick ran ${after} ms after the kill (heartbeat ${HEARTBEAT_MS} ms)`,
    );
    // Two heartbeats for the victim to be dead, one tick for the next firing, and a little for the load.
    expect(after).toBeLessThanOrEqual(2 * HEARTBEAT_MS + TICK_MS + 1_500);
    const rows = await claims();
    const dead = rows.find((c) => c.tick_at.getTime() === stuck.tick_at.getTime());
    expect(dead?.outcome).toBe("abandoned: the process running it stopped");
    // No overlap: nothing of the survivor's ran while the victim's run was in progress.
    expect(
      rows.filter(
        (c) =>
          c.claimed_by === survivorId &&
          c.outcome === "ok" &&
          c.tick_at > stuck.tick_at &&
          c.claimed_at.getTime() < killedAt,
      ),
    ).toEqual([]);

    const alive = survivor as BotProcess;
    alive.child.kill("SIGTERM");
    expect((await alive.exited).code, alive.output().slice(-2000)).toBe(0);
    // A graceful stop leaves no liveness row behind; the killed one's stays, dead.
    expect((await sql<{ id: string }[]>`select id from processes`).map((p) => p.id)).toEqual([
      stuck.claimed_by,
    ]);
  }, 120_000);
});
