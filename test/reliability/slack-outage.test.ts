/**
 * A Slack outage during an alert storm: Slack answers 503 for 60 s and then 429 with Retry-After
 * for 30 s while alerts keep arriving over the API. Afterwards nothing is lost, nothing is posted
 * twice, and every thread holds its replies in the order they were committed.
 *
 * Time is the bot's and the sandbox's injected clock, running 20 times faster than the wall clock,
 * so the 90 s outage (and every Retry-After, backoff and notification interval) takes 4.5 s here.
 * Channel pacing and leases run on the database's clock, which this cannot speed up: the pace is
 * given in wall time instead (Slack's 3 writes per 3 s of bot time is 3 per 150 ms here).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Bot, startBot } from "../../src/bot.js";
import { type MlopsConfig, parseEnv } from "../../src/config/index.js";
import { createOutboxRepository } from "../../src/outbox/index.js";
import { type SandboxServer, startSandboxServer } from "../../src/slack/sandbox/index.js";
import { sandboxSeedFromConfig } from "../../src/slack/sandbox-seed.js";
import { createIncidentsFeature, type IncidentsFeature } from "../../src/wiring/incidents-feature.js";
import { eventually } from "../e2e/incidents-bot.js";
import { demoConfig } from "../helpers/bot.js";
import { openTestDatabase, testLogger } from "../helpers/db.js";
import { seeded } from "../helpers/monitoring.js";
import { deliversRow, expectedThread } from "../helpers/outbox-delivery.js";

const SPEED = 20;
const BOT_TOKEN = "xoxb-outage-test-token";
const API_TOKEN = "mlops_outage_test_token_0123456789abcdef012";
const SEED = Number(process.env.RELIABILITY_SEED ?? 9026);

/** Wall time since the start, 20 times as fast. */
const origin = Date.now();
const fastNow = () => origin + (Date.now() - origin) * SPEED;

const CHANNELS: Record<string, string> = {
  "fraud-detector": "fraud-alerts",
  "churn-model": "churn-alerts",
  "credit-model": "credit-alerts",
};

function config(): MlopsConfig {
  const base = demoConfig();
  const fraud = base.models[0] as MlopsConfig["models"][number];
  return {
    ...base,
    models: [
      fraud,
      { ...fraud, slug: "churn-model", name: "Churn model", alert_channel: "churn-alerts" },
      { ...fraud, slug: "credit-model", name: "Credit model", alert_channel: "credit-alerts" },
    ],
  };
}

let sandbox: SandboxServer;
let bot: Bot;
let feature: IncidentsFeature | undefined;

beforeAll(async () => {
  const cfg = config();
  sandbox = await startSandboxServer({ token: BOT_TOKEN, seed: sandboxSeedFromConfig(cfg), clock: fastNow });
  bot = await startBot({
    env: parseEnv({
      PORT: "0",
      HOST: "127.0.0.1",
      LOG_LEVEL: "silent",
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: "outage-test-signing-secret",
      SLACK_API_URL: sandbox.apiUrl,
      MLOPS_API_TOKEN: API_TOKEN,
    }),
    config: cfg,
    logger: testLogger,
    slackRetries: 0,
    database: await openTestDatabase(),
    clock: { now: () => new Date(fastNow()) },
    features: (ctx) => {
      feature = createIncidentsFeature(ctx, {
        tickMs: 50,
        dispatcher: { pacing: { burst: 3, windowMs: 3000 / SPEED } },
      });
      return [feature];
    },
  });
}, 60_000);

afterAll(async () => {
  await bot?.close();
  await sandbox?.close();
});

describe("a Slack outage during an alert storm", () => {
  it("503 for 60 s, then 429 with Retry-After: afterwards nothing lost, nothing twice, threads in order", async () => {
    console.log(`slack-outage seed ${SEED}`);
    const rand = seeded(SEED);
    const { workspace } = sandbox;
    const start = fastNow();
    workspace.faults.add({ kind: "http_error", status: 503, untilMs: start + 60_000 });
    workspace.faults.add({ kind: "rate_limited", retryAfterSec: 5, untilMs: start + 90_000 });

    // Eight problems per model; the storm fires them in random order, some many times, and
    // resolves a few, over about 100 s of bot time: through the outage and past it.
    const problems = Object.keys(CHANNELS).flatMap((model, m) =>
      Array.from({ length: 8 }, (_, i) => ({ model, fingerprint: `00ab${m}${i}`.padStart(8, "0") })),
    );
    const resolved = new Set<string>();
    // How many waves fit into the 100 s depends on the machine's speed, so which problems fire is
    // tracked: only fired ones are resolved, and any the waves missed fire once at the end.
    const fired = new Set<string>();
    let posted = 0;
    const wave = async (status: "firing" | "resolved", batch: typeof problems) => {
      const res = await fetch(`${bot.url}/api/v1/alertmanager`, {
        method: "POST",
        headers: { authorization: `Bearer ${API_TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({
          version: "4",
          status,
          alerts: batch.map((p) => ({
            status,
            labels: { alertname: "StormCheck", model: p.model, subject: p.fingerprint },
            annotations: { summary: `storm on ${p.fingerprint}`, value: String(Math.round(rand() * 100)) },
            startsAt: new Date(fastNow()).toISOString(),
            ...(status === "resolved" ? { endsAt: new Date(fastNow()).toISOString() } : {}),
            fingerprint: p.fingerprint,
          })),
        }),
      });
      expect(res.status).toBe(200);
      posted += batch.length;
      if (status === "firing") for (const p of batch) fired.add(p.fingerprint);
    };
    const fire = (batch: typeof problems) => wave("firing", batch);
    while (fastNow() - start < 100_000) {
      const batch = problems.filter((p) => !resolved.has(p.fingerprint) && rand() < 0.3);
      if (batch.length) await fire(batch);
      if (fastNow() - start > 70_000 && resolved.size < 4) {
        const p = problems[Math.floor(rand() * problems.length)] as (typeof problems)[number];
        if (fired.has(p.fingerprint) && !resolved.has(p.fingerprint)) {
          resolved.add(p.fingerprint);
          await wave("resolved", [p]);
        }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const missed = problems.filter((p) => !fired.has(p.fingerprint));
    if (missed.length) await fire(missed);
    console.log(
      `slack-outage: ${posted} alerts posted over ${Math.round((fastNow() - start) / 1000)} s of bot time`,
    );

    const repo = createOutboxRepository(bot.database.db);
    // The incident ticker keeps running on the fast clock: firings that group_interval held back
    // are replied to once it passes, which queues a row after the outbox may already have looked
    // drained. Quiet means no held firings left first, and then an empty queue.
    await eventually(
      "held firings to be reported and the outbox to drain",
      async () => {
        const open = (await feature?.incidents.list({ limit: 500 })) ?? [];
        if (open.some((i) => i.state !== "resolved" && i.pendingFirings > 0)) return false;
        const counts = await repo.countByState();
        return !counts.pending && !counts.sending;
      },
      30_000,
    );
    const rows = await repo.all();
    expect(rows.filter((r) => r.state !== "sent" && r.state !== "superseded")).toEqual([]);

    // The outage happened, both ways.
    const calls = workspace.requests().filter((r) => r.method.startsWith("chat."));
    expect(calls.filter((r) => r.status === 503).length).toBeGreaterThan(0);
    expect(calls.filter((r) => r.status === 429).length).toBeGreaterThan(0);

    // Exactly once: one successful call per sent row, each post with its own ts.
    const sent = rows.filter((r) => r.state === "sent");
    const okCalls = workspace.requests().filter((r) => deliversRow(r.method) && r.status === 200);
    expect(okCalls.length).toBe(sent.length);
    const posts = sent.filter((r) => r.method === "chat.postMessage");
    expect(new Set(posts.map((r) => r.resultTs)).size).toBe(posts.length);

    // Nothing lost: one incident and one card per problem fired; the resolved ones resolved.
    const incidents = await feature?.incidents.list({ limit: 500 });
    expect(incidents?.length).toBe(fired.size);
    for (const incident of incidents ?? []) {
      const channel = CHANNELS[incident.model] as string;
      const cards = workspace.messages(channel).filter((m) => m.text.startsWith(`INC-${incident.id} [`));
      expect(cards, `card of INC-${incident.id}`).toHaveLength(1);
      const card = cards[0];
      // In order: the thread holds exactly the incident's reply rows, in commit order.
      const expected = expectedThread(sent, incident.cardOutboxId);
      const thread = workspace
        .thread(channel, card?.ts as string)
        .slice(1)
        .map((m) => m.text);
      expect(thread, `thread of INC-${incident.id}`).toEqual(expected);
      expect(card?.text).toContain(resolved.has(incident.subject) ? "[resolved]" : "[open]");
    }

    // Retry-After honoured: after a 429 in a channel, nothing went to that channel for 5 s of bot time.
    const channelOf = (r: { args: Record<string, unknown> }) =>
      workspace.resolveChannel(String(r.args.channel))?.id;
    let checked = 0;
    for (const [i, r] of calls.entries()) {
      if (r.status !== 429) continue;
      const next = calls.slice(i + 1).find((x) => channelOf(x) === channelOf(r));
      if (!next) continue;
      expect(next.at - r.at).toBeGreaterThanOrEqual(4_900);
      checked++;
    }
    expect(checked).toBeGreaterThan(0);
  }, 120_000);
});
