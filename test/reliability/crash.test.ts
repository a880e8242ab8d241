/**
 * Crashes during an alert storm: the bot is SIGKILLed at a random moment in each of 20 rounds
 * while alerts arrive, and restarted. Slack (an external sandbox) outlives every crash and keeps
 * the log of every call. Afterwards: exactly one incident per fingerprint, every acknowledged
 * alert recorded, every outbox row delivered, and each delivered once.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { resultRows } from "../../src/db/client.js";
import { type Database, openPglite, openPostgres } from "../../src/db/index.js";
import { createOutboxRepository } from "../../src/outbox/index.js";
import { type SandboxServer, startSandboxServer } from "../../src/slack/sandbox/index.js";
import { sandboxSeedFromConfig } from "../../src/slack/sandbox-seed.js";
import { signSlackRequest } from "../../src/slack/signature.js";
import { eventually } from "../e2e/incidents-bot.js";
import { demoConfig } from "../helpers/bot.js";
import { createEmptyPostgresDatabase, TEST_DATABASE_URL, testLogger } from "../helpers/db.js";
import { seeded } from "../helpers/monitoring.js";
import { type BotProcess, freePort, spawnBot, waitForStatus } from "../helpers/process.js";

const ROUNDS = Number(process.env.CRASH_ROUNDS ?? 20);
const SEED = Number(process.env.RELIABILITY_SEED ?? 7177);
const BOT_TOKEN = "xoxb-crash-test-token";
const API_TOKEN = "mlops_crash_test_token_0123456789abcdef0123";
const FINGERPRINTS = Array.from({ length: 16 }, (_, i) => `c0ffee${i.toString(16).padStart(2, "0")}`);

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe("SIGKILL at random moments during an alert storm", () => {
  it(`${ROUNDS} crashes and restarts: one incident per fingerprint, every outbox row delivered once`, async () => {
    console.log(`crash seed ${SEED} (RELIABILITY_SEED=${SEED} replays the kill times)`);
    const rand = seeded(SEED);
    const sandbox: SandboxServer = await startSandboxServer({
      token: BOT_TOKEN,
      seed: sandboxSeedFromConfig(demoConfig()),
    });
    cleanups.push(() => sandbox.close());
    const pg = TEST_DATABASE_URL ? await createEmptyPostgresDatabase() : undefined;
    if (pg) cleanups.push(() => pg.drop());
    const dataDir = mkdtempSync(join(tmpdir(), "mlops-crash-"));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const pgliteDir = join(dataDir, "pglite");
    // Repeat firings are held for the thread for a day (and only counted on the card meanwhile), so
    // the storm does not queue hundreds of replies behind Slack's pace of one post a second per channel.
    const configPath = join(dataDir, "mlops.config.yaml");
    const shipped = readFileSync(new URL("../../mlops.config.yaml", import.meta.url), "utf8");
    expect(shipped).toMatch(/group_interval: \S+/);
    // L1 has 1 s to acknowledge, so escalation deadlines fall due (and pages go out) amid the crashes.
    const l1Wait = /(l1: \{ group: l1, wait: )\w+/;
    expect(shipped).toMatch(l1Wait);
    writeFileSync(
      configPath,
      shipped.replace(/group_interval: \S+/, "group_interval: 24h").replace(l1Wait, "$11s"),
    );
    // A runbook that takes a while, so that runs are in flight when the process is killed.
    const runbooksDir = join(dataDir, "runbooks");
    mkdirSync(join(runbooksDir, "slow-fix"), { recursive: true });
    writeFileSync(
      join(runbooksDir, "slow-fix", "runbook.yaml"),
      [
        "name: slow-fix",
        "title: A slow fix",
        "description: Waits a moment, then reports that it worked.",
        "when:",
        "  models: [fraud-detector]",
        "run: [node, slow.mjs]",
        "timeout: 30s",
        "confirm: false",
        "allowed_groups: [l1, l2, owners]",
        "",
      ].join("\n"),
    );
    writeFileSync(
      join(runbooksDir, "slow-fix", "slow.mjs"),
      'setTimeout(() => console.log("fixed"), 400 + Math.random() * 800);\n',
    );
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const env = {
      MLOPS_CONFIG: configPath,
      MLOPS_RUNBOOKS_DIR: runbooksDir,
      PORT: String(port),
      HOST: "127.0.0.1",
      LOG_LEVEL: process.env.CRASH_LOG_LEVEL ?? "error",
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: "crash-test-signing-secret",
      SLACK_API_URL: sandbox.apiUrl,
      MLOPS_API_TOKEN: API_TOKEN,
      ...(pg ? { DATABASE_URL: pg.url } : { MLOPS_DATA_DIR: pgliteDir }),
    };
    let current: BotProcess | undefined;
    cleanups.push(() => {
      if (current && current.child.exitCode === null && current.child.signalCode === null)
        current.child.kill("SIGKILL");
    });

    const acked = new Set<string>();
    let sent = 0;
    let answered = 0;
    const fire = async (fingerprints: string[]) => {
      sent++;
      const res = await fetch(`${base}/api/v1/alertmanager`, {
        method: "POST",
        headers: { authorization: `Bearer ${API_TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({
          version: "4",
          status: "firing",
          alerts: fingerprints.map((f) => ({
            status: "firing",
            labels: { alertname: "CrashStorm", model: "fraud-detector", shard: f },
            annotations: { summary: `storm ${f}` },
            startsAt: new Date().toISOString(),
            fingerprint: f,
          })),
        }),
      }).catch(() => undefined);
      if (res?.status === 200) {
        answered++;
        for (const f of fingerprints) acked.add(f);
      }
      await res?.arrayBuffer().catch(() => undefined);
    };

    let started = 0;
    const channelId = sandbox.workspace.requireChannel("fraud-alerts").id;
    /** `/mlops runbook run slow-fix` from an L1 operator, signed as Slack signs it. */
    const runbook = async (): Promise<boolean> => {
      const body = new URLSearchParams({
        team_id: "T0SANDBOX",
        channel_id: channelId,
        channel_name: "fraud-alerts",
        user_id: "U0OLIVIA",
        user_name: "olivia",
        command: "/mlops",
        text: "runbook run slow-fix",
        response_url: `${sandbox.url}response/none`,
        // Unique like Slack's: the bot drops a request whose signature it has seen (a replay).
        trigger_id: `1.2.crash-${Math.random().toString(36).slice(2)}`,
      }).toString();
      const ts = Math.floor(Date.now() / 1000);
      const res = await fetch(`${base}/slack/events`, {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          "x-slack-request-timestamp": String(ts),
          "x-slack-signature": signSlackRequest("crash-test-signing-secret", ts, body),
        },
        body,
      }).catch(() => undefined);
      await res?.arrayBuffer().catch(() => undefined);
      return res?.status === 200;
    };
    const startedAt = Date.now();
    for (let round = 0; round < ROUNDS; round++) {
      current = spawnBot(env);
      await waitForStatus(`${base}/readyz`, 60_000);
      // Two clients fire random subsets until the kill, at a random moment 50–800 ms in.
      let live = true;
      const clients = [0, 1].map(async () => {
        while (live) {
          await fire(FINGERPRINTS.filter(() => rand() < 0.2));
          await new Promise((r) => setTimeout(r, 5));
        }
      });
      // An operator starts the slow runbook now and then.
      const runbooks = (async () => {
        for (let i = 0; live && i < 3; i++) {
          await new Promise((r) => setTimeout(r, rand() * 300));
          if (live && (await runbook())) started++;
        }
      })();
      await new Promise((r) => setTimeout(r, 50 + rand() * 750));
      current.child.kill("SIGKILL");
      const exit = await current.exited;
      expect(exit.signal, current.output().slice(-2000)).toBe("SIGKILL");
      live = false;
      await Promise.all([...clients, runbooks]);
    }
    console.log(
      `crash: ${ROUNDS} rounds in ${Date.now() - startedAt} ms; ${answered} of ${sent} webhooks acknowledged, ${started} runbook runs asked for`,
    );

    // Last life: no more alerts; everything committed must go out.
    current = spawnBot(env);
    await waitForStatus(`${base}/readyz`, 60_000);
    const db: Database | undefined = pg ? openPostgres(pg.url, testLogger, { max: 2 }) : undefined;
    if (pg) {
      // On Postgres a claim held by a killed process is taken back only when its lease (60 s) runs
      // out, since a live replica might hold it: allow for that.
      await eventually(
        "the due outbox rows to be delivered",
        async () => {
          // Also: runs a killed process left running are swept once their heartbeat is 60 s old, and
          // every incident's L2 page has gone out.
          const [row] = resultRows<{ n: number }>(
            await (db as Database).db.execute(`select
              (select count(*) from outbox where state in ('pending', 'sending') and available_at <= now())
              + (select count(*) from runbook_runs where status = 'running')
              + (select count(*) from escalation_pages where state <> 'done')
              + (select count(*) from incidents i where not exists
                  (select 1 from escalation_pages p where p.incident_id = i.id and p.tier = 2))::int as n`),
          );
          return Number(row?.n) === 0;
        },
        150_000,
      );
    } else {
      // PGlite is single-process: wait for Slack to go quiet, then stop the bot and read its files.
      let last = -1;
      await eventually(
        "Slack to go quiet",
        async () => {
          const n = sandbox.workspace.requests().filter((r) => r.method.startsWith("chat.")).length;
          const quiet = n === last;
          last = n;
          // Longer than the pacing window (3 posts per 3 s per channel), so pacing is not quiet.
          await new Promise((r) => setTimeout(r, 4000));
          return quiet;
        },
        60_000,
      );
    }
    current.child.kill("SIGTERM");
    expect((await current.exited).code).toBe(0);
    if (process.env.CRASH_LOG_LEVEL) console.log(current.output().slice(-4000));
    const database = db ?? (await openPglite(pgliteDir, testLogger));
    try {
      const rows = await createOutboxRepository(database.db).all();
      const incidents = resultRows<{ subject: string; n: number }>(
        await database.db.execute("select subject, count(*)::int as n from incidents group by subject"),
      );
      // Exactly one incident per fingerprint, and every acknowledged alert has one.
      expect(incidents.filter((i) => i.n !== 1)).toEqual([]);
      const opened = new Set(incidents.map((i) => i.subject));
      expect([...acked].filter((f) => !opened.has(f))).toEqual([]);
      expect(acked.size).toBeGreaterThan(0);

      // Every row that is due delivered (or superseded by a newer edit of the same message); the
      // held repeat notices wait for their time, and nothing is left claimed or given up.
      const now = Date.now();
      const undelivered = rows.filter(
        (r) =>
          r.state !== "sent" &&
          r.state !== "superseded" &&
          !(r.state === "pending" && r.availableAt.getTime() > now + 3_600_000),
      );
      expect(undelivered).toEqual([]);

      // Each delivered once: Slack saw one successful call per sent row; each card is posted once.
      const sentPosts = rows.filter((r) => r.state === "sent" && r.method === "chat.postMessage");
      const okPosts = sandbox.workspace.requests("chat.postMessage").filter((r) => r.status === 200);
      const cards = sandbox.workspace.messages("fraud-alerts").filter((m) => /^INC-\d+ \[/.test(m.text));
      const cardRefs = cards.map((m) => m.text.split(" ")[0]);
      const duplicateCards = cardRefs.filter((ref, i) => cardRefs.indexOf(ref) !== i);
      console.log(
        `crash: ${rows.length} outbox rows, ${sentPosts.length} posts sent, ${okPosts.length} accepted by Slack, ${incidents.length} incidents, ${sandbox.workspace.requests().filter((r) => r.method.startsWith("conversations.")).length} look-ups of earlier posts`,
      );
      expect(duplicateCards).toEqual([]);
      expect(okPosts.length).toBe(sentPosts.length);

      // Runbooks: no run left running; those the crashes cut short say so.
      const runs = resultRows<{ status: string; n: number }>(
        await database.db.execute("select status, count(*)::int as n from runbook_runs group by status"),
      );
      console.log(`crash: runbook runs by status ${JSON.stringify(runs)}`);
      expect(runs.reduce((n, r) => n + r.n, 0)).toBeGreaterThan(0);
      expect(runs.filter((r) => r.status === "running")).toEqual([]);

      // Escalation: every incident's L1 deadline was honoured once: one L2 page each, done, and one
      // DM per paged member.
      const pages = resultRows<{ incident_id: number; tier: number; state: string; members: string[] }>(
        await database.db.execute("select incident_id, tier, state, members from escalation_pages"),
      );
      const l2 = pages.filter((p) => p.tier === 2);
      expect(l2.map((p) => p.incident_id).sort()).toEqual(
        resultRows<{ id: number }>(await database.db.execute("select id from incidents order by id"))
          .map((i) => i.id)
          .sort(),
      );
      expect(pages.filter((p) => p.state !== "done")).toEqual([]);
      const dms = sandbox.workspace
        .requests("chat.postMessage")
        .filter(
          (r) => r.status === 200 && sandbox.workspace.resolveChannel(String(r.args.channel))?.kind === "im",
        );
      expect(dms.length).toBe(pages.reduce((n, p) => n + p.members.length, 0));
    } finally {
      await database.close();
    }
  }, 240_000);
});
