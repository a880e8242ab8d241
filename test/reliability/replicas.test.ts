/**
 * Two replicas on one Postgres, both taking the same alert storm and both running the same cron
 * schedule: no incident is opened twice, no outbox row is posted twice, each cron tick runs once,
 * and every escalation page goes out once.
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
import { seeded } from "../helpers/monitoring.js";
import { type BotProcess, freePort, spawnBot, waitForStatus } from "../helpers/process.js";
import { clusterUnavailableReason, startPgCluster } from "./pg-cluster.js";

const BOT_TOKEN = "xoxb-replicas-test-token";
const API_TOKEN = "mlops_replicas_test_token_0123456789abcdef0";
const SEED = Number(process.env.RELIABILITY_SEED ?? 4242);
const FINGERPRINTS = Array.from({ length: 10 }, (_, i) => `beef00${i.toString(16).padStart(2, "0")}`);
const noPostgres = clusterUnavailableReason() && !TEST_DATABASE_URL;
if (noPostgres) console.warn(`skipping the replicas test: ${noPostgres} and TEST_DATABASE_URL is not set`);

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

describe.skipIf(noPostgres)("two replicas on one Postgres", () => {
  it("no incident opened twice, no post twice, each cron tick run once, each page sent once", async () => {
    console.log(`replicas seed ${SEED}`);
    const rand = seeded(SEED);
    const url = await database();
    const sandbox: SandboxServer = await startSandboxServer({
      token: BOT_TOKEN,
      seed: sandboxSeedFromConfig(demoConfig()),
    });
    cleanups.push(() => sandbox.close());
    // The probe runs every 2 s on both replicas (against a model service that is not there, so it alerts).
    const dir = mkdtempSync(join(tmpdir(), "mlops-replicas-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const shipped = readFileSync(new URL("../../mlops.config.yaml", import.meta.url), "utf8");
    const probeSchedule = /(probe:\s*\n\s*schedule: )"[^"]+"/;
    expect(shipped).toMatch(probeSchedule);
    const configPath = join(dir, "mlops.config.yaml");
    // L1 has 2 s to acknowledge, so both replicas' escalation tickers race to page L2 for each incident.
    const l1Wait = /(l1: \{ group: l1, wait: )\w+/;
    expect(shipped).toMatch(l1Wait);
    writeFileSync(configPath, shipped.replace(probeSchedule, '$1"*/2 * * * * *"').replace(l1Wait, "$12s"));

    const ports = [await freePort(), await freePort()];
    const bots: BotProcess[] = ports.map((port) =>
      spawnBot({
        PORT: String(port),
        HOST: "127.0.0.1",
        LOG_LEVEL: "error",
        DATABASE_URL: url,
        MLOPS_CONFIG: configPath,
        SLACK_BOT_TOKEN: BOT_TOKEN,
        SLACK_SIGNING_SECRET: "replicas-test-signing-secret",
        SLACK_API_URL: sandbox.apiUrl,
        MLOPS_API_TOKEN: API_TOKEN,
      }),
    );
    cleanups.push(async () => {
      for (const b of bots) if (b.child.exitCode === null) b.child.kill("SIGKILL");
    });
    await Promise.all(ports.map((p) => waitForStatus(`http://127.0.0.1:${p}/readyz`, 60_000)));

    // The storm: the same fingerprints through both replicas at once, for 6 s.
    const until = Date.now() + 6_000;
    let acknowledged = 0;
    await Promise.all(
      [0, 1, 2, 3].map(async (client) => {
        while (Date.now() < until) {
          const port = ports[client % 2] as number;
          const batch = FINGERPRINTS.filter(() => rand() < 0.3);
          const res = await fetch(`http://127.0.0.1:${port}/api/v1/alertmanager`, {
            method: "POST",
            headers: { authorization: `Bearer ${API_TOKEN}`, "content-type": "application/json" },
            body: JSON.stringify({
              version: "4",
              status: "firing",
              alerts: batch.map((f) => ({
                status: "firing",
                labels: {
                  alertname: "ReplicaStorm",
                  model: "fraud-detector",
                  severity: "critical",
                  shard: f,
                },
                annotations: { summary: `storm ${f}` },
                startsAt: new Date().toISOString(),
                fingerprint: f,
              })),
            }),
          });
          await res.arrayBuffer();
          if (batch.length) expect([200, 400]).toContain(res.status);
          if (res.status === 200) acknowledged++;
          await new Promise((r) => setTimeout(r, 20));
        }
      }),
    );

    const sql = postgres(url, { max: 1, onnotice: () => {} });
    cleanups.push(() => sql.end({ timeout: 1 }));
    // Everything due is delivered (repeat notices held by group_interval may wait).
    await eventually(
      "the due outbox rows to be delivered",
      async () => {
        const [row] = await sql<{ n: number }[]>`
          select count(*)::int as n from outbox where state in ('pending', 'sending') and available_at <= now()`;
        return row?.n === 0;
      },
      60_000,
    );
    // Every incident was escalated past L1 by one replica or the other, and its page fanned out.
    await eventually(
      "every incident paged to L2",
      async () => {
        const [row] = await sql<{ waiting: number }[]>`
          select count(*)::int as waiting from incidents i
          where not exists (select 1 from escalation_pages p where p.incident_id = i.id and p.tier = 2 and p.state = 'done')`;
        return row?.waiting === 0;
      },
      30_000,
    );
    await eventually(
      "the pages' DMs to be delivered",
      async () => {
        const [row] = await sql<{ n: number }[]>`
          select count(*)::int as n from outbox where state in ('pending', 'sending') and available_at <= now()`;
        return row?.n === 0;
      },
      60_000,
    );
    for (const b of bots) b.child.kill("SIGTERM");
    expect((await Promise.all(bots.map((b) => b.exited))).map((e) => e.code)).toEqual([0, 0]);

    // One incident per fingerprint (the storm's and the probe's), whichever replica took the alert.
    const incidents = await sql<{ subject: string; n: number }[]>`
      select subject, count(*)::int as n from incidents group by subject`;
    expect(incidents.filter((i) => i.n !== 1)).toEqual([]);
    expect(incidents.length).toBeGreaterThan(FINGERPRINTS.length / 2);

    // No post twice: one accepted Slack post per sent row, one card per incident.
    const [sent] = await sql<{ n: number }[]>`
      select count(*)::int as n from outbox where state = 'sent' and method = 'chat.postMessage'`;
    const okPosts = sandbox.workspace.requests("chat.postMessage").filter((r) => r.status === 200);
    expect(okPosts.length).toBe(sent?.n);
    const cards = sandbox.workspace.messages("fraud-alerts").map((m) => m.text.split(" ")[0]);
    expect(cards.filter((c, i) => cards.indexOf(c) !== i)).toEqual([]);

    // Each cron tick claimed once and run once; the two replicas really were both scheduling.
    const ticks = await sql<{ job: string; tick_at: Date; claimed_by: string }[]>`
      select job, tick_at, claimed_by from cron_claims where job like '%probe%' order by tick_at`;
    expect(ticks.length).toBeGreaterThanOrEqual(3);
    const [runs] = await sql<{ n: number }[]>`
      select count(*)::int as n from monitor_runs where monitor = 'probe' and trigger = 'schedule'`;
    expect(runs?.n).toBe(ticks.length);

    // Every escalation page went out once: one page per incident and step, done, its mention sent;
    // and each L2 member got one DM per page.
    const pages = await sql<
      { incident_id: number; step: number; state: string; delivered: string | null; members: string[] }[]
    >`
      select p.incident_id, p.step, p.state, o.state as delivered, p.members
      from escalation_pages p left join outbox o on o.id = p.mention_outbox_id`;
    expect(pages.length).toBe(incidents.length);
    expect(pages.filter((p) => p.state !== "done" || p.delivered !== "sent")).toEqual([]);
    const dms = sandbox.workspace
      .requests("chat.postMessage")
      .filter(
        (r) => r.status === 200 && sandbox.workspace.resolveChannel(String(r.args.channel))?.kind === "im",
      );
    expect(dms.length).toBe(pages.reduce((n, p) => n + p.members.length, 0));
    console.log(
      `replicas: ${acknowledged} webhooks acknowledged, ${incidents.length} incidents, ${sent?.n} posts, ${ticks.length} probe ticks claimed by ${new Set(ticks.map((t) => t.claimed_by)).size} replica(s), ${pages.length} pages`,
    );
  }, 150_000);
});
