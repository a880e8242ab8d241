/**
 * The bot token is revoked in the middle of an alert storm. Delivery pauses (nothing is marked
 * failed, /readyz says why, a metric counts it) while alerts keep arriving over the API; the
 * token is replaced (a new one issued, the bot restarted with it on the same database), and then
 * every queued write is delivered exactly once: one card per incident, each thread complete.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Bot, startBot } from "../../src/bot.js";
import { type MlopsConfig, parseEnv } from "../../src/config/index.js";
import type { Database } from "../../src/db/index.js";
import { createOutboxRepository } from "../../src/outbox/index.js";
import { type SandboxServer, startSandboxServer } from "../../src/slack/sandbox/index.js";
import { sandboxSeedFromConfig } from "../../src/slack/sandbox-seed.js";
import { createIncidentsFeature, type IncidentsFeature } from "../../src/wiring/incidents-feature.js";
import { eventually } from "../e2e/incidents-bot.js";
import { demoConfig } from "../helpers/bot.js";
import { openTestDatabase, testLogger } from "../helpers/db.js";
import { seeded } from "../helpers/monitoring.js";
import { deliversRow, expectedThread } from "../helpers/outbox-delivery.js";

const OLD_TOKEN = "xoxb-revoked-test-old-token";
const NEW_TOKEN = "xoxb-revoked-test-new-token";
const API_TOKEN = "mlops_revoked_test_token_0123456789abcdef012";
const CHANNEL = "fraud-alerts";
const SEED = Number(process.env.RELIABILITY_SEED ?? 7301);

let sandbox: SandboxServer;
let database: Database & { url: string | undefined };
const bots: Bot[] = [];
let feature: IncidentsFeature | undefined;

function config(): MlopsConfig {
  const base = demoConfig();
  return { ...base, models: base.models.slice(0, 1), outbox: { ...base.outbox, probe_every: 200 } };
}

/** A bot with `token` on the shared database (its close leaves the database open for the next). */
async function start(token: string): Promise<Bot> {
  const bot = await startBot({
    env: parseEnv({
      PORT: "0",
      HOST: "127.0.0.1",
      LOG_LEVEL: "silent",
      SLACK_BOT_TOKEN: token,
      SLACK_SIGNING_SECRET: "revoked-test-signing-secret",
      SLACK_API_URL: sandbox.apiUrl,
      MLOPS_API_TOKEN: API_TOKEN,
    }),
    config: config(),
    logger: testLogger,
    slackRetries: 0,
    database: { ...database, close: async () => {} },
    features: (ctx) => {
      feature = createIncidentsFeature(ctx, { tickMs: 50 });
      return [feature];
    },
  });
  bots.push(bot);
  return bot;
}

beforeAll(async () => {
  sandbox = await startSandboxServer({ token: OLD_TOKEN, seed: sandboxSeedFromConfig(config()) });
  database = await openTestDatabase();
}, 60_000);

afterAll(async () => {
  for (const b of bots) await b.close();
  await sandbox?.close();
  await database?.close();
});

describe("a revoked token during an alert storm", () => {
  it("pauses without failing anything, then delivers everything once after the token is replaced", async () => {
    console.log(`token-revoked seed ${SEED}`);
    const rand = seeded(SEED);
    const { workspace } = sandbox;
    const problems = Array.from({ length: 12 }, (_, i) => `cafe${i.toString(16).padStart(4, "0")}`);
    const fired = new Set<string>();
    const resolved = new Set<string>();

    let bot = await start(OLD_TOKEN);
    const repo = createOutboxRepository(database.db);
    const wave = async (status: "firing" | "resolved", batch: string[]) => {
      const res = await fetch(`${bot.url}/api/v1/alertmanager`, {
        method: "POST",
        headers: { authorization: `Bearer ${API_TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({
          version: "4",
          status,
          alerts: batch.map((fingerprint) => ({
            status,
            labels: { alertname: "StormCheck", model: "fraud-detector", subject: fingerprint },
            annotations: { summary: `storm on ${fingerprint}`, value: String(Math.round(rand() * 100)) },
            startsAt: new Date().toISOString(),
            ...(status === "resolved" ? { endsAt: new Date().toISOString() } : {}),
            fingerprint,
          })),
        }),
      });
      expect(res.status).toBe(200);
      if (status === "firing") for (const f of batch) fired.add(f);
    };
    const storm = async (waves: number, pool: string[]) => {
      for (let i = 0; i < waves; i++) {
        const batch = pool.filter((p) => !resolved.has(p) && rand() < 0.4);
        if (batch.length) await wave("firing", batch);
      }
    };
    // All twelve problems share one channel, which Slack's pace allows one write a second: a drain
    // can take half a minute on a quiet machine, so the ceiling leaves room for a busy one.
    const drained = () =>
      eventually(
        "the outbox to drain",
        async () => {
          const counts = await repo.countByState();
          return !counts.pending && !counts.sending;
        },
        90_000,
      );

    // Before: the first alerts go out with the old token.
    await wave("firing", problems.slice(0, 3));
    await drained();

    // The token is revoked; the storm goes on over the API.
    workspace.tokens.revoke(OLD_TOKEN);
    await storm(8, problems.slice(0, 8));
    const ready = await eventually("/readyz to report the pause", async () => {
      const res = await fetch(`${bot.url}/readyz`);
      const body = (await res.json()) as { status: string; incidents?: Record<string, string> };
      return res.status === 200 && body.status === "degraded" ? body : undefined;
    });
    expect(ready.incidents).toMatchObject({ outbox: "paused", slack_error: "token_revoked" });
    expect(ready.incidents?.fix).toContain("SLACK_BOT_TOKEN");
    expect(await (await fetch(`${bot.url}/metrics`)).text()).toContain(
      'mlops_outbox_pauses_total{code="token_revoked"} 1',
    );
    await storm(6, problems);
    await eventually("a refused probe", () =>
      workspace
        .requests("auth.test")
        .some((r) => (r.response as { error?: string }).error === "token_revoked"),
    );
    const during = await repo.all();
    expect(during.filter((r) => r.state === "failed" || r.state === "dead")).toEqual([]);
    expect(during.filter((r) => r.state === "pending").length).toBeGreaterThan(0);

    // The token is replaced: a new one is issued and the bot restarted with it.
    workspace.tokens.issue(NEW_TOKEN);
    await bot.close();
    bot = await start(NEW_TOKEN);
    await storm(4, problems);
    for (const f of problems.slice(0, 2)) {
      resolved.add(f);
      await wave("resolved", [f]);
    }
    await drained();

    const rows = await repo.all();
    expect(rows.filter((r) => r.state !== "sent" && r.state !== "superseded")).toEqual([]);
    // Exactly once: one accepted call per sent row, each post with its own ts.
    const accepted = workspace
      .requests()
      .filter((r) => deliversRow(r.method) && (r.response as { ok?: boolean }).ok === true);
    const sent = rows.filter((r) => r.state === "sent");
    expect(accepted.length).toBe(sent.length);
    const posts = sent.filter((r) => r.method === "chat.postMessage");
    expect(new Set(posts.map((r) => r.resultTs)).size).toBe(posts.length);
    // The revoked token's calls were refused, not lost: the same rows went out with the new one.
    expect(
      workspace.requests().filter((r) => (r.response as { error?: string }).error === "token_revoked").length,
    ).toBeGreaterThan(0);

    // Nothing lost: one incident and one card per problem fired, each thread complete and in order.
    const incidents = await feature?.incidents.list({ limit: 100 });
    expect(incidents?.length).toBe(fired.size);
    for (const incident of incidents ?? []) {
      const cards = workspace.messages(CHANNEL).filter((m) => m.text.startsWith(`INC-${incident.id} [`));
      expect(cards, `card of INC-${incident.id}`).toHaveLength(1);
      const expected = expectedThread(sent, incident.cardOutboxId);
      const thread = workspace
        .thread(CHANNEL, cards[0]?.ts as string)
        .slice(1)
        .map((m) => m.text);
      expect(thread, `thread of INC-${incident.id}`).toEqual(expected);
      expect(cards[0]?.text).toContain(resolved.has(incident.subject) ? "[resolved]" : "[open]");
    }
  }, 240_000);
});
