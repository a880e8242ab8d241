import { count } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditLog, candidates, outbox } from "../../src/db/schema/index.js";
import {
  API_TOKEN,
  type RetrainingBot,
  retrainingConfig,
  startRetrainingBot,
  startWebhookServer,
} from "./retraining-bot.js";

let webhooks: Awaited<ReturnType<typeof startWebhookServer>>;
let bot: RetrainingBot;

beforeAll(async () => {
  webhooks = await startWebhookServer();
  const config = retrainingConfig(webhooks.url);
  const fraud = config.models[0];
  if (!fraud) throw new Error("demo model missing");
  // A second model without a retraining section.
  config.models.push({ ...fraud, slug: "churn-predictor", name: "Churn predictor", retraining: undefined });
  bot = await startRetrainingBot(config);
});
afterAll(async () => {
  await bot?.close();
  await webhooks?.close();
});

const good = {
  version: "v2",
  artifact_uri: "s3://models/fraud/v2.onnx",
  metrics: { f1: 0.84, latency_p95_ms: 41, fpr_gap: 0.018 },
  champion_metrics: { f1: 0.8, latency_p95_ms: 38, fpr_gap: 0.021 },
  data_window: { from: "2026-10-01T00:00:00Z", to: "2026-11-01T00:00:00Z" },
  pipeline_run_url: "https://ci.example/runs/1",
};

async function post(model: string, body: unknown, token: string | null = API_TOKEN, raw = false) {
  const res = await fetch(`${bot.url}/api/v1/models/${model}/candidates`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: raw ? String(body) : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function stored() {
  const db = bot.database.db;
  const [c] = await db.select({ n: count() }).from(candidates);
  const [o] = await db.select({ n: count() }).from(outbox);
  const [a] = await db.select({ n: count() }).from(auditLog);
  return { candidates: c?.n, outbox: o?.n, audit: a?.n };
}

describe("POST /api/v1/models/:model/candidates", () => {
  it("refuses without a valid token (401), for an unknown or unconfigured model (404), and a bad body (400 naming the field), storing nothing", async () => {
    const before = await stored();
    expect((await post("fraud-detector", good, null)).status).toBe(401);
    expect((await post("fraud-detector", good, "not-a-token")).status).toBe(401);
    const forged = await post("fraud-detector", good, "mlrt_forged-callback-token");
    expect(forged.status).toBe(401);
    expect(forged.body.message).toContain("callback token");

    const unknown = await post("no-such-model", good);
    expect(unknown).toMatchObject({ status: 404, body: { error: "unknown_model" } });
    const unconfigured = await post("churn-predictor", good);
    expect(unconfigured.status).toBe(404);
    expect(unconfigured.body.message).toContain("no `retraining` section");

    const cases: [unknown, string][] = [
      [{ ...good, version: undefined }, "version"],
      [{ ...good, version: "not a version!" }, "version"],
      [{ ...good, metrics: { ...good.metrics, f1: "high" } }, "metrics.f1"],
      [{ ...good, champion_metrics: { f1: 0.8, fpr_gap: 0.02 } }, "champion_metrics.latency_p95_ms"],
      [{ ...good, metrics: { latency_p95_ms: 41, fpr_gap: 0.018 } }, "metrics.f1"],
      [
        { ...good, data_window: { from: "2026-11-01T00:00:00Z", to: "2026-10-01T00:00:00Z" } },
        "data_window.to",
      ],
      [{ ...good, pipeline_run_url: "javascript:alert(1)" }, "pipeline_run_url"],
      [{ ...good, surprise: 1 }, "surprise"],
      [{ ...good, version: "v1" }, "version"],
      [{ ...good, retrain_request_id: 999 }, "retrain_request_id"],
      [[good], "(body)"],
    ];
    for (const [body, field] of cases) {
      const res = await post("fraud-detector", body);
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body.field).toBe(field);
      expect(String(res.body.message)).toContain(field === "(body)" ? "" : field);
    }
    const notJson = await post("fraud-detector", "{nope", API_TOKEN, true);
    expect(notJson.status).toBe(400);
    expect(await stored()).toEqual(before);
  });

  it("stores a good report once (201), judged by the rules; the same version again is 409", async () => {
    const created = await post("fraud-detector", { ...good, business_metrics: { revenue_eur: 120.5 } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      model: "fraud-detector",
      version: "v2",
      state: "pending_approval",
      passes: true,
    });
    const again = await post("fraud-detector", good);
    expect(again).toMatchObject({ status: 409, body: { error: "duplicate_version" } });
    const failing = await post("fraud-detector", {
      ...good,
      version: "v3",
      metrics: { ...good.metrics, latency_p95_ms: 90 },
    });
    expect(failing.status).toBe(201);
    expect(failing.body.passes).toBe(false);
    expect(String(failing.body.verdict)).toContain("latency_p95_ms");
  });

  // Last: it uses up this address's budget of bad tokens.
  it("counts forged callback tokens against the address's failed-auth budget: 429 with Retry-After, while a good token still passes", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 25; i++)
      statuses.push((await post("fraud-detector", good, `mlrt_guess-${i}`)).status);
    expect(statuses.slice(0, 15).every((s) => s === 401)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
    const guess = await fetch(`${bot.url}/api/v1/models/fraud-detector/candidates`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer mlops_not_a_real_token" },
      body: JSON.stringify({ ...good, version: "v9" }),
    });
    expect(guess.status).toBe(429);
    expect(Number(guess.headers.get("retry-after"))).toBeGreaterThan(0);
    // A valid token is never refused by the limiter.
    const res = await fetch(`${bot.url}/api/v1/models/fraud-detector/candidates`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${API_TOKEN}` },
      body: JSON.stringify({ ...good, version: "v9" }),
    });
    expect(res.status).toBe(201);
  });
});
