import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAuditRepository } from "../../src/audit/index.js";
import type { MlopsConfig, RetrainingConfig } from "../../src/config/index.js";
import { createModelRepository } from "../../src/models/index.js";
import { createRetrainingRepository } from "../../src/retraining/index.js";
import { createLogger } from "../../src/shared/logger.js";
import type { SandboxMessage } from "../../src/slack/sandbox/index.js";
import { type FakeMlflow, startFakeMlflow } from "../helpers/fake-mlflow.js";
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
const MLFLOW_TOKEN = "mlflow-e2e-token-0123456789abcdef";
let webhooks: Awaited<ReturnType<typeof startWebhookServer>>;
let mlflow: FakeMlflow;
let bot: RetrainingBot;
const clock = shiftableClock();

/** The retraining e2e config with the fraud detector's champion kept in the fake MLflow. */
function mlflowConfig(over: Partial<RetrainingConfig> = {}): MlopsConfig {
  const config = retrainingConfig(webhooks.url, {
    registry: {
      type: "mlflow",
      url: mlflow.url,
      token: MLFLOW_TOKEN,
      model_name: "fraud",
      champion_alias: "champion",
      trained_by_tag: "mlflow.user",
      timeout: 2_000,
    },
    ...over,
  });
  const model = config.models[0];
  if (model) model.champion = "1";
  return config;
}

beforeAll(async () => {
  webhooks = await startWebhookServer();
  mlflow = await startFakeMlflow({ model: "fraud", token: MLFLOW_TOKEN });
  mlflow.addVersion(
    { version: "1", run_id: "run-1" },
    { run_id: "run-1", experiment_id: "3", metrics: { f1: 0.8 } },
  );
  mlflow.addVersion(
    { version: "2", run_id: "run-2", tags: { "mlflow.user": "bea" } },
    { run_id: "run-2", experiment_id: "3", user_id: "ci", metrics: { f1: 0.84, roc_auc: 0.93 } },
  );
  mlflow.setAlias("champion", "1");
  bot = await startRetrainingBot(mlflowConfig(), clock);
});
afterAll(async () => {
  await bot?.close();
  await webhooks?.close();
  await mlflow?.close();
});

const text = (m: SandboxMessage | undefined) => `${m?.text ?? ""} ${JSON.stringify(m?.blocks ?? [])}`;
const candidateState = async (id: number) =>
  (await createRetrainingRepository(bot.database.db).candidate(id))?.state;
const botChampion = async (b: RetrainingBot = bot) => {
  const models = createModelRepository(b.database.db);
  const model = await models.bySlug("fraud-detector");
  return (await models.champion(model?.id as number))?.version;
};
/** Runs due adapter calls after their backoff (the clock jumps past it). */
async function nextAttempt(): Promise<void> {
  clock.shift(310_000);
  await bot.retraining.ticker.kick();
}

async function api(path: string, body: unknown, token = API_TOKEN) {
  const res = await fetch(`${bot.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("retraining with the champion kept in an MLflow Model Registry (fake MLflow, sandbox, real database)", () => {
  let incidentId: number;
  let candidateId: number;
  let card: SandboxMessage;
  let approvalCard: SandboxMessage;
  const thread = () => bot.sandbox.workspace.thread(CHANNEL, card.ts);

  it("at start the registry's alias and the bot's champion agree: the check says nothing", async () => {
    await eventually("the check to read the alias", () =>
      mlflow.requests.some((r) => r.method === "GET" && r.path.endsWith("/registered-models/alias")),
    );
    await eventually(
      "the check to finish",
      async () => !(await createRetrainingRepository(bot.database.db).openRegistryCheck("fraud-detector")),
    );
    await outboxDrained(bot);
    expect(bot.sandbox.workspace.messages(CHANNEL).some((m) => m.text.includes("registry's alias"))).toBe(
      false,
    );
    expect(mlflow.aliasWrites()).toHaveLength(0);
  });

  it("a reported candidate is looked up in MLflow: its run metrics, run link and who trained it are on the card", async () => {
    const { workspace, driver } = bot.sandbox;
    const [opened] = await bot.incidents.intake.process([driftFinding("amount")]);
    incidentId = opened?.incidentId as number;
    card = await eventually("the incident card", () =>
      workspace.messages(CHANNEL).find((m) => m.text.startsWith(`INC-${incidentId} [`)),
    );
    await driver.command("U0DANA", CHANNEL, `retrain fraud-detector INC-${incidentId} drift`);
    const hook = await eventually("the pipeline webhook", () =>
      webhooks.received.find((r) => r.path === "/pipeline"),
    );
    const reported = await fetch(String(hook.json.callback_url), {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${hook.json.callback_token}` },
      body: JSON.stringify({
        version: "2",
        artifact_uri: "models:/fraud/2",
        metrics: { f1: 0.84, latency_p95_ms: 41, fpr_gap: 0.018 },
        champion_metrics: { f1: 0.8, latency_p95_ms: 38, fpr_gap: 0.021 },
        data_window: { from: "2026-10-01T00:00:00Z", to: "2026-11-01T00:00:00Z" },
        pipeline_run_url: "https://ci.example/runs/2",
      }),
    });
    expect(reported.status).toBe(201);
    candidateId = ((await reported.json()) as { id: number }).id;
    approvalCard = await eventually("the card with the registry's description", () =>
      thread().find(
        (m) => m.text.startsWith("Candidate fraud-detector 2") && text(m).includes("trained by bea"),
      ),
    );
    expect(text(approvalCard)).toContain("*MLflow* `fraud` version 2");
    expect(text(approvalCard)).toContain(`<${mlflow.url}/#/experiments/3/runs/run-2|MLflow run>`);
    expect(text(approvalCard)).toContain("`roc_auc` 0.93");
    expect(mlflow.requests.find((r) => r.path.endsWith("/model-versions/get"))?.query).toEqual({
      name: "fraud",
      version: "2",
    });
    const kinds = (await bot.incidents.incidents.timeline(incidentId)).map((e) => e.kind);
    expect(kinds).toContain("registry_version_found");
  });

  it("Promote through a registry outage: retried by the call worker, nothing half-done, then the alias and the bot agree", async () => {
    const { driver } = bot.sandbox;
    await driver.clickButton("U0DANA", approvalCard, "retrain_approve");
    await driver.clickButton("U0MAYA", approvalCard, "retrain_approve");
    await eventually("the canary", async () => (await candidateState(candidateId)) === "canary");
    // While the canary runs the alias stays on the champion.
    expect(mlflow.alias("champion")).toBe("1");

    const now = clock.now().getTime();
    const rows = [];
    const labels = [];
    for (let i = 0; i < 300; i++) {
      const challenger = i % 3 === 0;
      rows.push({
        id: `mlflow-live-${i}`,
        ts: new Date(now + 1000 + i).toISOString(),
        model_version: challenger ? "2" : "1",
        prediction: 1,
        confidence: challenger ? 0.9 : 0.86,
        features: { amount: 10 + i, merchant_category: "grocery" },
      });
      labels.push({ id: `mlflow-live-${i}`, label: (challenger ? i % 30 === 0 : i % 4 === 0) ? 0 : 1 });
    }
    expect((await api("/api/v1/models/fraud-detector/predictions", rows)).status).toBe(200);
    expect((await api("/api/v1/models/fraud-detector/labels", labels)).status).toBe(200);
    expect(await bot.retraining.scheduler.tick("retraining:canary:fraud-detector")).toBe("ran");
    const comparison = await eventually("the live comparison", () =>
      thread().find((m) => m.text.startsWith("Canary of fraud-detector 2")),
    );
    expect(buttonIds(comparison)).toEqual(["canary_promote", "canary_rollback"]);

    // The registry throttles the first attempt and is down for the second.
    mlflow.failNext("POST", "/api/2.0/mlflow/registered-models/alias", 503, 1);
    mlflow.failNext("GET", "/api/2.0/mlflow/registered-models/alias", 429, 1);
    await driver.clickButton("U0MAYA", comparison, "canary_promote");
    const promoteCall = async () =>
      (await createRetrainingRepository(bot.database.db).callsOf({ candidateId })).find(
        (c) => c.kind === "promote",
      );
    await eventually("the first attempt to fail", async () =>
      (await promoteCall())?.lastError?.includes("HTTP 429"),
    );
    // Nothing half-done: the bot is promoting, the alias and its champion have not moved, no traffic moved.
    expect(await candidateState(candidateId)).toBe("promoting");
    expect(mlflow.alias("champion")).toBe("1");
    expect(await botChampion()).toBe("1");
    const promoteHooks = () =>
      webhooks.received.filter((r) => r.path === "/deploy" && r.json.action === "promote");
    expect(promoteHooks()).toHaveLength(0);

    await nextAttempt();
    expect((await promoteCall())?.lastError).toContain("HTTP 503");
    expect(mlflow.alias("champion")).toBe("1");
    await nextAttempt();
    await eventually("the promotion", async () => (await candidateState(candidateId)) === "promoted");
    expect((await promoteCall())?.attempts).toBe(3);
    expect(mlflow.alias("champion")).toBe("2");
    expect(await botChampion()).toBe("2");
    expect(promoteHooks()).toHaveLength(1);
    // Two writes: the one the outage refused and the one that moved it.
    const moveTo2 = { name: "fraud", alias: "champion", version: "2" };
    expect(mlflow.aliasWrites().map((r) => r.body)).toEqual([moveTo2, moveTo2]);

    await outboxDrained(bot);
    const promoted = thread().find((m) => m.text.includes("promoted `2`"));
    expect(promoted?.text).toContain("alias `champion` of `fraud` points at version `2`");
    expect(text(bot.sandbox.workspace.message(CHANNEL, approvalCard.ts))).toContain("Promoted to champion");
    const events = await bot.incidents.incidents.timeline(incidentId);
    expect(events.find((e) => e.kind === "promoted")?.detail).toMatchObject({
      registry: { alias: "champion", modelName: "fraud", to: "2" },
    });
  });

  it("Roll back after the promotion moves the alias back to the previous champion, and the bot follows", async () => {
    const { workspace, driver } = bot.sandbox;
    const promotedCard = workspace.message(CHANNEL, approvalCard.ts) as SandboxMessage;
    expect(buttonIds(promotedCard)).toEqual(["canary_rollback"]);
    await driver.clickButton("U0DEV", promotedCard, "canary_rollback");
    await eventually("the rollback", async () => (await candidateState(candidateId)) === "rolled_back");
    expect(mlflow.alias("champion")).toBe("1");
    expect(await botChampion()).toBe("1");
    const hook = webhooks.received.find((r) => r.path === "/deploy" && r.json.action === "rollback");
    expect(hook?.json).toMatchObject({ challenger_share: 0, champion_version: "1", challenger_version: "2" });
    await outboxDrained(bot);
    expect(thread().find((m) => m.text.includes("rolled back `2`"))?.text).toContain(
      "alias `champion` of `fraud` points at version `1`",
    );
    expect(buttonIds(workspace.message(CHANNEL, approvalCard.ts))).toEqual([]);
    const kinds = (await bot.incidents.incidents.timeline(incidentId)).map((e) => e.kind);
    expect(kinds).toEqual(expect.arrayContaining(["promoted", "rollback_requested", "rolled_back"]));
  });

  it("a bot started while the registry disagrees reports it (log line, channel, audit) and overwrites neither side", async () => {
    mlflow.setAlias("champion", "2"); // moved by hand in the MLflow UI
    const writes = mlflow.aliasWrites().length;
    const lines: string[] = [];
    const logger = createLogger("info", { write: (line: string) => void lines.push(line) });
    const second = await startRetrainingBot(mlflowConfig(), clock, logger);
    try {
      const note = await eventually("the disagreement in the model's channel", () =>
        second.sandbox.workspace.messages(CHANNEL).find((m) => m.text.includes("registry's alias")),
      );
      expect(note.text).toContain("points at version `2`, but the bot's champion is `1`");
      expect(note.text).toContain("Neither was changed");
      const logged = lines.find((l) => l.includes("disagree on the champion"));
      expect(JSON.parse(logged ?? "{}")).toMatchObject({
        level: 40,
        model: "fraud-detector",
        registryVersion: "2",
        botChampion: "1",
      });
      expect(lines.join("\n")).not.toContain(MLFLOW_TOKEN);
      const audit = await createAuditRepository(second.database.db).recent({ limit: 50 });
      expect(audit.find((a) => a.action === "retraining.registry_disagrees")).toMatchObject({
        target: "fraud-detector",
        outcome: "error",
      });
      // Neither side was overwritten.
      expect(mlflow.alias("champion")).toBe("2");
      expect(mlflow.aliasWrites()).toHaveLength(writes);
      expect(await botChampion(second)).toBe("1");
    } finally {
      await second.close();
    }
  });
});
