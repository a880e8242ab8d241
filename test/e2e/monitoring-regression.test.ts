import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configSchema } from "../../src/config/index.js";
import { resultRows } from "../../src/db/client.js";
import { oneModelConfigInput, startTestBot } from "../helpers/bot.js";
import { makeToken, normal, seeded } from "../helpers/monitoring.js";
import {
  type RegressionSample,
  regressionLabels,
  regressionPredictions,
  regressionSample,
} from "../helpers/regression.js";

type TestBot = Awaited<ReturnType<typeof startTestBot>>;
let bot: TestBot;
let token: string;
const HOUR = 3_600_000;
const rand = seeded(2027);
const n = () => normal(rand);

beforeAll(async () => {
  // The shipped runbooks name fraud-detector, so it stays; the regression model sits beside it.
  const input = oneModelConfigInput();
  (input.models as Record<string, unknown>[]).push({
    slug: "house-prices",
    name: "House prices",
    task: "regression",
    owners: "fraud-ml",
    alert_channel: "#fraud-alerts",
    features: [{ name: "x", type: "numeric" }],
    monitors: {
      performance: { window: "1h", metric: "rmse", min_labels: 100 },
      drift: { window: "1h" },
    },
  });
  const config = configSchema.parse(input);
  bot = await startTestBot({ config });
  token = await makeToken(bot.database);
});
afterAll(async () => {
  await bot?.close();
});

async function api(path: string, body: unknown) {
  const res = await fetch(`${bot.url}/api/v1/models/house-prices/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Predictions first, their labels later, as a regression model's ground truth arrives. */
async function send(s: RegressionSample, prefix: string, from: number, span: number) {
  const rows = regressionPredictions(s, prefix, new Date(from), span);
  expect((await api("predictions", rows)).body).toEqual({ received: rows.length, stored: rows.length });
  expect((await api("labels", regressionLabels(s, prefix))).body).toEqual({
    received: rows.length,
    matched: rows.length,
    pending: 0,
  });
}

async function waitForMessage(channelId: string, contains: string, timeoutMs = 20_000) {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    const m = bot.sandbox.workspace.messages(channelId).find((msg) => (msg.text ?? "").includes(contains));
    if (m) return m;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no message containing ${JSON.stringify(contains)} in ${channelId}`);
}

describe("a regression model through the bot's API and /mlops check", () => {
  it("residuals that doubled give a performance finding with MAE, RMSE, MAPE and R², and residual drift", async () => {
    const now = Date.now();
    await send(regressionSample(n, 1500, { noise: 2 }), "ref", now - 3 * 24 * HOUR, 24 * HOUR);
    const baseline = await api("reference", {
      from: new Date(now - 4 * 24 * HOUR).toISOString(),
      to: new Date(now - 2 * 24 * HOUR).toISOString(),
    });
    expect(baseline.status).toBe(201);
    expect(baseline.body).toMatchObject({ rows: 1500, labelledRows: 1500 });

    await send(regressionSample(n, 400, { noise: 4 }), "live", now - HOUR, HOUR - 60_000);

    const where = bot.sandbox.workspace.channelByName("fraud-alerts")?.id as string;
    const res = await bot.sandbox.driver.command("U0OLIVIA", where, "check house-prices");
    expect(res.status).toBe(200);
    const posted = await waitForMessage(where, "Check of house-prices");
    const text = posted.text ?? "";
    expect(text).toContain("performance: alert");
    expect(text).toMatch(
      /performance: RMSE rose to [\d.]+ \(reference [\d.]+\): MAE [\d.]+, RMSE [\d.]+, MAPE [\d.]+%, R² [\d.]+/,
    );
    expect(text).toMatch(
      /\[realised rmse > [\d.]+ \(learned: reference mean [\d.]+ \+ 3σ over 10 chunks\)\]/,
    );
    expect(text).toMatch(/drift: Drift in \(residual\)/);
    const blocks = JSON.stringify(posted.blocks);
    expect(blocks).toMatch(/realised rmse [\d.]+ \(MAE [\d.]+, RMSE [\d.]+, MAPE [\d.]+, R² [\d.]+\)/);
  });

  it("a label that is not a number is refused for a regression model, naming the row, and nothing is stored", async () => {
    const res = await api("labels", [
      { id: "live-0", label: 231.5 },
      { id: "live-1", label: "expensive" },
    ]);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      error: "invalid_batch",
      message: "row 1: label: expected a number (the true value) for a regression model",
      row: 1,
      field: "label",
    });
    const [stored] = resultRows<{ label: string }>(
      await bot.database.db.execute(sql`select label from predictions where request_id = 'live-0'`),
    );
    expect(Number(stored?.label)).not.toBe(231.5);
  });
});
