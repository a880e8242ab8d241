import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAuditRepository } from "../../src/audit/index.js";
import { createModelRepository } from "../../src/models/index.js";
import { createRetrainingRepository } from "../../src/retraining/index.js";
import type { SandboxMessage } from "../../src/slack/sandbox/index.js";
import { driftFinding } from "../helpers/signals.js";
import { buttonIds, eventually, outboxDrained } from "./incidents-bot.js";
import {
  API_TOKEN,
  type RetrainingBot,
  retrainingConfig,
  shiftableClock,
  startRetrainingBot,
  startWebhookServer,
} from "./retraining-bot.js";

const CHANNEL = "fraud-alerts";
let webhooks: Awaited<ReturnType<typeof startWebhookServer>>;
let bot: RetrainingBot;
const clock = shiftableClock();

beforeAll(async () => {
  webhooks = await startWebhookServer();
  bot = await startRetrainingBot(retrainingConfig(webhooks.url), clock);
});
afterAll(async () => {
  await bot?.close();
  await webhooks?.close();
});

const text = (m: SandboxMessage | undefined) => `${m?.text ?? ""} ${JSON.stringify(m?.blocks ?? [])}`;
const threadOf = (parent: SandboxMessage) => bot.sandbox.workspace.thread(CHANNEL, parent.ts);
const lastEphemeral = (user: string) => bot.sandbox.workspace.ephemerals(user).at(-1)?.text ?? "";

async function api(path: string, body: unknown, token = API_TOKEN) {
  const res = await fetch(`${bot.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

function report(version: string, over: Record<string, unknown> = {}) {
  return {
    version,
    artifact_uri: `s3://models/fraud/${version}.onnx`,
    metrics: { f1: 0.84, latency_p95_ms: 41, fpr_gap: 0.018 },
    champion_metrics: { f1: 0.8, latency_p95_ms: 38, fpr_gap: 0.021 },
    data_window: { from: "2026-10-01T00:00:00Z", to: "2026-11-01T00:00:00Z" },
    pipeline_run_url: `https://ci.example/runs/${version}`,
    business_metrics: { blocked_fraud_eur_per_day: 18400 },
    ...over,
  };
}

async function candidateState(id: number) {
  return (await createRetrainingRepository(bot.database.db).candidate(id))?.state;
}

describe("retraining with a human in the loop (sandbox, real HTTP, real database)", () => {
  it("retrain → signed pipeline webhook → candidate via the API → card in the thread → approvals → canary → live comparison → promote", async () => {
    const { workspace, driver } = bot.sandbox;
    const [opened] = await bot.incidents.intake.process([driftFinding("amount")]);
    const incidentId = opened?.incidentId as number;
    const ref = `INC-${incidentId}`;
    const card = await eventually("the incident card", () =>
      workspace.messages(CHANNEL).find((m) => m.text.startsWith(`${ref} [`)),
    );

    // An L1 operator may not retrain: refused, logged, nothing called.
    const refused = await driver.command("U0OLIVIA", CHANNEL, `retrain fraud-detector ${ref} drift`);
    expect(JSON.stringify(refused.body)).toContain("You may not retrain");
    // An L2 data scientist may; asking twice finds the running request instead of starting another.
    const asked = await driver.command("U0DANA", CHANNEL, `retrain fraud-detector ${ref} amount drifted`);
    expect(JSON.stringify(asked.body)).toContain("RTR-");
    const again = await driver.command("U0DEV", CHANNEL, `retrain fraud-detector ${ref}`);
    expect(JSON.stringify(again.body)).toContain("already");

    // The pipeline webhook arrives once, signed, with the callback it needs.
    const hook = await eventually("the pipeline webhook", () =>
      webhooks.received.find((r) => r.path === "/pipeline"),
    );
    expect(hook.validSignature).toBe(true);
    expect(webhooks.received.filter((r) => r.path === "/pipeline")).toHaveLength(1);
    expect(hook.json).toMatchObject({
      event: "retrain.requested",
      model: "fraud-detector",
      incident: ref,
      reason: "amount drifted",
      requested_by: "U0DANA",
    });
    expect(String(hook.json.callback_url)).toBe(`${bot.url}/api/v1/models/fraud-detector/candidates`);
    expect(String(hook.json.callback_token)).toMatch(/^mlrt_/);
    await eventually("the thread to say the pipeline runs", () =>
      threadOf(card).some((m) => m.text.includes("pipeline of RTR-") && m.text.includes("is running")),
    );

    // The pipeline reports its candidate with the one-time token it was given.
    const reported = await fetch(String(hook.json.callback_url), {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${hook.json.callback_token}` },
      body: JSON.stringify(report("v2")),
    });
    expect(reported.status).toBe(201);
    const created = (await reported.json()) as { id: number; passes: boolean };
    expect(created.passes).toBe(true);
    // The token is spent: a second report with it is refused.
    const replay = await fetch(String(hook.json.callback_url), {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${hook.json.callback_token}` },
      body: JSON.stringify(report("v3")),
    });
    expect(replay.status).toBe(401);

    // The comparison card is in the incident's thread: every metric, delta, rule and the verdict.
    const approval = await eventually("the approval card in the thread", () =>
      threadOf(card).find((m) => m.text.startsWith("Candidate fraud-detector v2")),
    );
    expect(approval.thread_ts).toBe(card.ts);
    expect(text(approval)).toContain("*f1* (primary): 0.8 → 0.84 (+0.04)");
    expect(text(approval)).toContain("latency_p95_ms");
    expect(text(approval)).toContain("Clears the rules");
    expect(buttonIds(approval)).toEqual(["retrain_approve", "retrain_reject"]);
    // Its picture follows in the thread: champion against challenger on each metric.
    const filesOf = () =>
      threadOf(card)
        .flatMap((m) => m.files)
        .map((id) => bot.sandbox.workspace.file(id));
    const evaluation = await eventually("the evaluation chart in the thread", () =>
      filesOf().find((f) => f?.title.endsWith("against challenger v2")),
    );
    expect(evaluation.alt_text).toContain("f1 0.8 → 0.84");

    // Someone without `approve` is refused and nothing changes.
    await driver.clickButton("U0OLIVIA", approval, "retrain_approve");
    await eventually("the refusal", () => lastEphemeral("U0OLIVIA").includes("You may not approve"));
    expect(await candidateState(created.id)).toBe("pending_approval");

    // The requester's approval alone is not enough.
    await driver.clickButton("U0DANA", approval, "retrain_approve");
    await eventually("the card to ask for another approver", () =>
      text(workspace.message(CHANNEL, approval.ts)).includes("someone other than the requester"),
    );
    expect(await candidateState(created.id)).toBe("pending_approval");
    expect(webhooks.received.filter((r) => r.path === "/deploy")).toHaveLength(0);

    // A second approver starts the canary: the deploy webhook gets the share.
    await driver.clickButton("U0MAYA", approval, "retrain_approve");
    const canary = await eventually("the canary deploy webhook", () =>
      webhooks.received.find((r) => r.path === "/deploy" && r.json.action === "canary"),
    );
    expect(canary.validSignature).toBe(true);
    expect(canary.json).toMatchObject({
      challenger_share: 0.1,
      challenger_version: "v2",
      champion_version: "v1",
    });
    await eventually("the canary to run", async () => (await candidateState(created.id)) === "canary");
    await eventually("the thread to announce the canary", () =>
      threadOf(card).some((m) => m.text.includes("Canary started: 10% of traffic")),
    );

    // Not enough sample yet: the scheduled check posts nothing.
    await bot.retraining.rollout.checkCanaries();
    expect(threadOf(card).some((m) => m.text.startsWith("Canary of fraud-detector"))).toBe(false);

    // Live traffic on both arms, with labels: the challenger errs less.
    const now = clock.now().getTime();
    const rows = [];
    const labels = [];
    for (let i = 0; i < 300; i++) {
      const challenger = i % 3 === 0;
      const id = `live-${i}`;
      const wrong = challenger ? i % 30 === 0 : i % 4 === 0;
      rows.push({
        id,
        ts: new Date(now + 1000 + i).toISOString(),
        model_version: challenger ? "v2" : "v1",
        prediction: 1,
        confidence: challenger ? 0.9 : 0.86,
        features: { amount: 10 + i, merchant_category: "grocery" },
      });
      labels.push({ id, label: wrong ? 0 : 1 });
    }
    expect((await api("/api/v1/models/fraud-detector/predictions", rows)).status).toBe(200);
    expect((await api("/api/v1/models/fraud-detector/labels", labels)).status).toBe(200);

    // The scheduled check (a claimed cron tick) posts the comparison once there is enough sample.
    expect(await bot.retraining.scheduler.tick("retraining:canary:fraud-detector")).toBe("ran");
    const comparison = await eventually("the live comparison in the thread", () =>
      threadOf(card).find((m) => m.text.startsWith("Canary of fraud-detector v2")),
    );
    expect(text(comparison)).toContain("error rate");
    expect(text(comparison)).toContain("on labels");
    expect(buttonIds(comparison)).toEqual(["canary_promote", "canary_rollback"]);
    // And the live metrics of both arms with their 95% intervals, as a picture.
    const live = await eventually("the canary chart in the thread", () =>
      filesOf().find((f) => f?.title.startsWith("fraud-detector canary:")),
    );
    expect(live.alt_text).toMatch(/error rate [\d.]+ \(95% CI [\d.]+ to [\d.]+\)/);
    // On demand too.
    const onDemand = await driver.command("U0GUEST", CHANNEL, "canary fraud-detector");
    expect(JSON.stringify(onDemand.body)).toContain("error rate p =");

    // Promote: only with `approve`; then the deploy adapter, then the registry.
    await driver.clickButton("U0GUEST", comparison, "canary_promote");
    await eventually("the refusal to promote", () =>
      lastEphemeral("U0GUEST").includes("You may not promote"),
    );
    await driver.clickButton("U0MAYA", comparison, "canary_promote");
    const promote = await eventually("the promote deploy webhook", () =>
      webhooks.received.find((r) => r.path === "/deploy" && r.json.action === "promote"),
    );
    expect(promote.json).toMatchObject({ challenger_share: 1, challenger_version: "v2" });
    await eventually("the promotion", async () => (await candidateState(created.id)) === "promoted");
    const models = createModelRepository(bot.database.db);
    const model = await models.bySlug("fraud-detector");
    expect((await models.champion(model?.id as number))?.version).toBe("v2");
    await outboxDrained(bot);
    expect(threadOf(card).some((m) => m.text.includes("promoted `v2`"))).toBe(true);

    // A restart re-syncs the registry from the config (champion: v1): the promotion outlives it.
    await bot.monitoring.registry.sync(retrainingConfig(webhooks.url));
    expect(await bot.monitoring.registry.champion("fraud-detector")).toBe("v2");

    // `/mlops models` shows the new champion.
    const listed = await driver.command("U0GUEST", CHANNEL, "models");
    expect(JSON.stringify(listed.body)).toContain("fraud-detector: champion v2");

    // The incident's timeline has every step, and the audit log has the decisions.
    const kinds = (await bot.incidents.incidents.timeline(incidentId)).map((e) => e.kind);
    for (const k of [
      "retrain_requested",
      "pipeline_started",
      "candidate_reported",
      "refused",
      "candidate_approval",
      "candidate_approved",
      "canary_started",
      "canary_compared",
      "promoted",
    ])
      expect(kinds).toContain(k);
    const audit = await createAuditRepository(bot.database.db).recent({ limit: 200 });
    expect(audit.filter((a) => a.action === "retraining.refused").map((a) => a.actor)).toEqual(
      expect.arrayContaining(["U0OLIVIA", "U0GUEST"]),
    );
  });

  it("a candidate reported without a retrain goes to the model's channel; Reject asks for a reason and ends it", async () => {
    const { workspace, driver } = bot.sandbox;
    const created = await api("/api/v1/models/fraud-detector/candidates", report("v4"));
    expect(created.status).toBe(201);
    const card = await eventually("the top-level approval card", () =>
      workspace.messages(CHANNEL).find((m) => m.text.startsWith("Candidate fraud-detector v4")),
    );
    // Someone without `approve` cannot even open the dialog.
    await driver.clickButton("U0OMAR", card, "retrain_reject");
    await eventually("the refusal", () => lastEphemeral("U0OMAR").includes("You may not reject"));
    expect(workspace.views("U0OMAR")).toHaveLength(0);

    await driver.clickButton("U0DEV", card, "retrain_reject");
    const view = await eventually("the reject dialog", () => workspace.views("U0DEV").find((v) => v.open));
    const empty = await driver.submitView("U0DEV", view.id, { reject_reason_text: "  " });
    expect(JSON.stringify(empty.body)).toContain("Say why");
    await driver.submitView("U0DEV", view.id, { reject_reason_text: "trained on the outage week" });
    await eventually(
      "the rejection",
      async () => (await candidateState(created.body.id as number)) === "rejected",
    );
    await eventually("the card to show the rejection", () =>
      text(workspace.message(CHANNEL, card.ts)).includes("Rejected by <@U0DEV>: trained on the outage week"),
    );
    expect(buttonIds(workspace.message(CHANNEL, card.ts))).toEqual([]);
    const audit = await createAuditRepository(bot.database.db).recent({ limit: 200 });
    expect(audit.some((a) => a.action === "retraining.candidate_rejected" && a.actor === "U0DEV")).toBe(true);
  });

  it("an undecided candidate expires on the ticker; a late Approve changes nothing", async () => {
    const { workspace, driver } = bot.sandbox;
    const created = await api("/api/v1/models/fraud-detector/candidates", report("v5"));
    expect(created.status).toBe(201);
    const id = created.body.id as number;
    const card = await eventually("the approval card", () =>
      workspace.messages(CHANNEL).find((m) => m.text.startsWith("Candidate fraud-detector v5")),
    );
    expect(await bot.retraining.service.expireDue()).toBe(0);
    clock.shift(25 * 3_600_000);
    await bot.retraining.ticker.kick();
    expect(await candidateState(id)).toBe("expired");
    await eventually("the card to show the expiry", () =>
      text(workspace.message(CHANNEL, card.ts)).includes("Expired without a decision"),
    );
    await driver.clickButton("U0MAYA", card, "retrain_approve").catch(() => undefined);
    expect(await candidateState(id)).toBe("expired");
    expect(
      webhooks.received.filter((r) => r.path === "/deploy" && r.json.challenger_version === "v5"),
    ).toHaveLength(0);
  });
  it("a pipeline that answers 503 is called again after its backoff, with the same delivery id, and the request goes on", async () => {
    const { workspace, driver } = bot.sandbox;
    webhooks.failNext("/pipeline", 503);
    const before = webhooks.received.filter((r) => r.path === "/pipeline").length;
    const asked = await driver.command("U0MAYA", CHANNEL, "retrain fraud-detector weekly refresh");
    const requestId = Number(/RTR-(\d+)/.exec(JSON.stringify(asked.body))?.[1]);
    expect(requestId).toBeGreaterThan(0);
    await eventually("the first, failed attempt", async () => {
      const calls = await createRetrainingRepository(bot.database.db).callsOf({
        retrainRequestId: requestId,
      });
      return calls[0]?.state === "pending" && calls[0].lastError?.includes("HTTP 503");
    });
    clock.shift(5_000);
    await bot.retraining.ticker.kick();
    const attempts = webhooks.received.filter((r) => r.path === "/pipeline").slice(before);
    expect(attempts).toHaveLength(2);
    expect(attempts.map((a) => a.headers["x-mlops-delivery"])).toEqual([
      attempts[0]?.headers["x-mlops-delivery"],
      attempts[0]?.headers["x-mlops-delivery"],
    ]);
    // Without an incident, the request starts its own thread in the model's channel.
    const root = await eventually("the request's own post", () =>
      workspace
        .messages(CHANNEL)
        .find((m) => m.text.includes("asked to retrain") && m.text.includes("weekly refresh")),
    );
    await eventually("the thread to say the pipeline runs", () =>
      workspace.thread(CHANNEL, root.ts).some((m) => m.text.includes("is running")),
    );
  });
  it("roll back: the deploy adapter sends all traffic back and the champion stays", async () => {
    const { workspace, driver } = bot.sandbox;
    const created = await api(
      "/api/v1/models/fraud-detector/candidates",
      report("v6", { champion_version: "v2" }),
    );
    expect(created.status).toBe(201);
    const id = created.body.id as number;
    const card = await eventually("the approval card", () =>
      workspace.messages(CHANNEL).find((m) => m.text.startsWith("Candidate fraud-detector v6")),
    );
    await driver.clickButton("U0DEV", card, "retrain_approve");
    await driver.clickButton("U0MAYA", card, "retrain_approve");
    await eventually("the canary", async () => (await candidateState(id)) === "canary");
    // `/mlops models` shows the challenger in canary with its share.
    const listed = await driver.command("U0GUEST", CHANNEL, "models");
    expect(JSON.stringify(listed.body)).toContain("challenger v6 (canary)");
    expect(JSON.stringify(listed.body)).toContain("canary 10%");
    // Before enough sample the comparison offers only Roll back.
    const asked = await driver.command("U0DEV", CHANNEL, "canary fraud-detector");
    expect(JSON.stringify(asked.body)).toContain("Not enough traffic yet");
    const comparison = await eventually("the comparison under the card", () =>
      workspace.thread(CHANNEL, card.ts).find((m) => m.text.startsWith("Canary of fraud-detector v6")),
    );
    expect(buttonIds(comparison)).toEqual(["canary_rollback"]);
    await driver.clickButton("U0DEV", comparison, "canary_rollback");
    const rollback = await eventually("the rollback deploy webhook", () =>
      webhooks.received.find((r) => r.path === "/deploy" && r.json.action === "rollback"),
    );
    expect(rollback.validSignature).toBe(true);
    expect(rollback.json).toMatchObject({
      challenger_share: 0,
      challenger_version: "v6",
      champion_version: "v2",
    });
    await eventually("the rollback", async () => (await candidateState(id)) === "rolled_back");
    expect(await bot.monitoring.registry.champion("fraud-detector")).toBe("v2");
    await eventually("the thread to say so", () =>
      workspace.thread(CHANNEL, card.ts).some((m) => m.text.includes("rolled back `v6`")),
    );
  });
});
