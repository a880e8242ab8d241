import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRetrainingRepository } from "../../src/retraining/index.js";
import { demoConfig } from "../helpers/bot.js";
import { eventually } from "./incidents-bot.js";
import { type RetrainingBot, startRetrainingBot } from "./retraining-bot.js";

let bot: RetrainingBot;
beforeAll(async () => {
  bot = await startRetrainingBot(demoConfig());
});
afterAll(async () => {
  await bot?.close();
});

describe("the demo's local-command pipeline and deploy adapter", () => {
  it("retrain runs scripts/demo/retrain.mjs, which reports its candidate through the API; approval runs deploy.mjs", async () => {
    const { workspace, driver } = bot.sandbox;
    const asked = await driver.command("U0DANA", "fraud-alerts", "retrain fraud-detector demo");
    expect(JSON.stringify(asked.body)).toContain("command pipeline");
    const card = await eventually(
      "the candidate card posted by the demo pipeline",
      () =>
        workspace
          .allMessages("fraud-alerts")
          .find((m) => m.text.startsWith("Candidate fraud-detector v2-r1")),
      20_000,
    );
    expect(JSON.stringify(card.blocks)).toContain("Clears the rules");
    const repo = createRetrainingRepository(bot.database.db);
    const candidate = await repo.candidateByVersion("fraud-detector", "v2-r1");
    expect(candidate?.reportedBy).toBe("retrain:1");
    expect(candidate?.businessMetrics).toMatchObject({ blocked_fraud_eur_per_day: 18400 });

    await driver.clickButton("U0DANA", card, "retrain_approve");
    await driver.clickButton("U0DEV", card, "retrain_approve");
    await eventually(
      "the canary started by deploy.mjs",
      async () => (await repo.candidate(candidate?.id as number))?.state === "canary",
      20_000,
    );
    const calls = await repo.callsOf({ candidateId: candidate?.id as number });
    expect(calls.map((c) => [c.kind, c.state])).toEqual([["canary", "done"]]);
    expect(String(calls[0]?.result?.output)).toContain(
      "deploy canary: 10% of fraud-detector traffic to v2-r1, 90% to v1",
    );
  });
});
