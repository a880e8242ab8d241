import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MlopsConfig } from "../../src/config/index.js";
import { createOutboxRepository } from "../../src/outbox/index.js";
import type { AlertSignal } from "../../src/shared/alert-signal.js";
import { demoConfig, oneIncidentPerFinding } from "../helpers/bot.js";
import { expectedThread } from "../helpers/outbox-delivery.js";
import { cardOf, type IncidentBot, outboxDrained, startIncidentBot } from "./incidents-bot.js";

/** The demo config with two more models, each alerting into its own channel; every repeat replied at once. */
function threeChannelConfig(): MlopsConfig {
  const base = demoConfig();
  const fraud = base.models[0] as MlopsConfig["models"][number];
  return {
    ...base,
    alerting: { ...base.alerting, group_interval: 0 },
    models: [
      fraud,
      { ...fraud, slug: "churn-model", name: "Churn model", alert_channel: "churn-alerts" },
      { ...fraud, slug: "credit-model", name: "Credit model", alert_channel: "credit-alerts" },
    ],
  };
}

const CHANNELS: Record<string, string> = {
  "fraud-detector": "fraud-alerts",
  "churn-model": "churn-alerts",
  "credit-model": "credit-alerts",
};

let bot: IncidentBot;
beforeAll(async () => {
  bot = await startIncidentBot({
    config: oneIncidentPerFinding(threeChannelConfig()),
    // Faster pacing than Slack's so the test is short; pacing itself is tested in test/outbox.
    feature: { dispatcher: { pacing: { burst: 20, windowMs: 1000 } } },
  });
});
afterAll(async () => {
  await bot?.close();
});

function signal(
  model: string,
  subject: string,
  n: number,
  status: "firing" | "resolved" = "firing",
): AlertSignal {
  return {
    source: "monitor",
    model,
    monitor: "confidence",
    subject,
    status,
    severity: "warning",
    title: `Low confidence burst #${n} on ${subject}`,
    summary: "Too many predictions under the confidence threshold.",
    metrics: { low_share: 0.3 + n / 100 },
    rule: "low-confidence share > 0.2",
    observedAt: new Date(),
  };
}

describe("a Slack outage during a burst of alerts", () => {
  it("503s, then 429s with Retry-After: afterwards every message is delivered exactly once, in order in each thread", async () => {
    const { workspace } = bot.sandbox;
    const start = Date.now();
    workspace.faults.add({ method: "chat.*", kind: "http_error", status: 503, untilMs: start + 1500 });
    workspace.faults.add({ method: "chat.*", kind: "rate_limited", retryAfterSec: 1, untilMs: start + 3000 });

    const problems = Object.keys(CHANNELS).flatMap((model) => [
      { model, subject: "prediction" },
      { model, subject: "segment_eu" },
    ]);
    // The burst: every problem fires six times, interleaved, while Slack is failing; then two resolve.
    for (let n = 1; n <= 6; n++) {
      await Promise.all(problems.map((p) => bot.feature.intake.process([signal(p.model, p.subject, n)])));
      await new Promise((r) => setTimeout(r, 150));
    }
    await bot.feature.intake.process([signal("churn-model", "prediction", 7, "resolved")]);
    await bot.feature.intake.process([signal("fraud-detector", "segment_eu", 7, "resolved")]);

    await outboxDrained(bot, 30_000);
    const rows = await createOutboxRepository(bot.database.db).all();
    expect(
      rows.filter((r) => r.state === "failed" || r.state === "pending" || r.state === "sending"),
    ).toEqual([]);

    // The outage really happened: both kinds of failure were answered.
    const chatCalls = workspace.requests().filter((r) => r.method.startsWith("chat."));
    expect(chatCalls.some((r) => r.status === 503)).toBe(true);
    expect(chatCalls.some((r) => r.status === 429)).toBe(true);

    // Exactly once: one successful post per post row, each with its own ts, none extra.
    const postRows = rows.filter((r) => r.method === "chat.postMessage" && r.state === "sent");
    const okPosts = workspace.requests("chat.postMessage").filter((r) => r.status === 200);
    expect(okPosts).toHaveLength(postRows.length);
    expect(new Set(postRows.map((r) => r.resultTs)).size).toBe(postRows.length);

    // In order: each thread holds exactly its reply rows, in the order they were committed.
    const list = await bot.feature.incidents.list({ limit: 100 });
    expect(list).toHaveLength(problems.length);
    for (const incident of list) {
      const channel = CHANNELS[incident.model] as string;
      const card = cardOf(bot, channel, `INC-${incident.id}`);
      expect(
        workspace.messages(channel).filter((m) => m.text.startsWith(`INC-${incident.id} [`)),
      ).toHaveLength(1);
      // A resolved incident's thread ends with its review draft, a file whose comment is shown.
      const expected = expectedThread(
        rows.filter((r) => r.state === "sent"),
        incident.cardOutboxId,
      );
      const thread = workspace
        .thread(channel, card?.ts as string)
        .slice(1)
        .map((m) => m.text);
      expect(thread).toEqual(expected);
      expect(thread.filter((t) => t.includes("Fired again"))).toHaveLength(5);
      // The card shows the final state: all firings counted.
      expect(JSON.stringify(card?.blocks)).toContain(`${incident.alertCount} times`);
    }
    expect(list.filter((i) => i.state === "resolved")).toHaveLength(2);

    // Retry-After honoured: after a 429 in a channel, nothing went to that channel for a second.
    const channelOf = (r: { args: Record<string, unknown> }) =>
      workspace.resolveChannel(String(r.args.channel))?.id;
    const posts = workspace.requests("chat.postMessage");
    let checked = 0;
    for (const [i, r] of posts.entries()) {
      if (r.status !== 429) continue;
      const next = posts.slice(i + 1).find((x) => channelOf(x) === channelOf(r));
      if (next) expect(next.at - r.at).toBeGreaterThanOrEqual(950);
      if (next) checked++;
    }
    expect(checked).toBeGreaterThan(0);
  });
});
