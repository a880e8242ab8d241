import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiTokenService } from "../../src/api-tokens/index.js";
import { resultRows } from "../../src/db/client.js";
import type { Database } from "../../src/db/index.js";
import { emptyRollup, mergeRollup } from "../../src/rollups/model.js";
import { createRollupRepository } from "../../src/rollups/repository.js";
import { systemClock } from "../../src/shared/clock.js";
import { irisConfig, kserveEvent, postEvent, startCloudEventsBot } from "../helpers/cloudevents.js";
import { openTestDatabase } from "../helpers/db.js";
import { makeToken, manualClock } from "../helpers/monitoring.js";

type TestBot = Awaited<ReturnType<typeof startCloudEventsBot>>;
let database: Database;
let bot: TestBot;
let token: string;
let auth: Record<string, string>;
const clock = manualClock(new Date("2026-12-07T12:00:00Z"));

beforeAll(async () => {
  database = await openTestDatabase();
  // X-Forwarded-For names the caller (TRUST_PROXY), so one bot sees allowlisted and other addresses.
  bot = await startCloudEventsBot({
    database,
    clock,
    config: irisConfig({ ingest: { cloudevents: { allow_from: ["10.0.0.0/8"] } } }),
    env: { TRUST_PROXY: "true" },
  });
  token = await makeToken(database);
  auth = { authorization: `Bearer ${token}` };
  await bot.payloadLog.scheduler.stop();
});
afterAll(async () => {
  await bot?.close();
});

/** The unpaired report, as an operator reads it. */
interface UnpairedReport {
  pair_window_ms: number;
  models: { model: string; waiting_request: number; waiting_response: number; unpaired: number }[];
  recent_unpaired: { model: string; id: string; half: string }[];
}

async function unpairedReport(): Promise<UnpairedReport> {
  const res = await fetch(`${bot.url}/api/v1/ingest/cloudevents/unpaired`, { headers: auth });
  expect(res.status).toBe(200);
  return (await res.json()) as UnpairedReport;
}

async function count(table: "predictions" | "payload_halves"): Promise<number> {
  const r = await database.db.execute(sql`select count(*)::int as n from ${sql.identifier(table)}`);
  return resultRows<{ n: number }>(r)[0]?.n ?? -1;
}

async function storedRows(slug: string) {
  const r = await database.db.execute(sql`
    select p.request_id, p.ts, p.model_version, p.prediction, p.confidence, p.num, p.cat, p.extra
    from predictions p join models m on m.id = p.model_id where m.slug = ${slug} order by p.request_id`);
  type Row = { request_id: string; ts: string; model_version: string; prediction: string; num: number[] };
  return resultRows<Row & Record<string, unknown>>(r).map((row) => ({
    ...row,
    ts: new Date(row.ts as string).toISOString(),
  }));
}

/** Everything the monitors see of a model: its rollups (folded and not yet folded), merged. */
async function rollupOf(slug: string) {
  const [model] = resultRows<{ id: number }>(
    await database.db.execute(sql`select id from models where slug = ${slug}`),
  );
  const buckets = await createRollupRepository(database.db).window({
    modelId: model?.id ?? -1,
    from: new Date("2000-01-01T00:00:00Z"),
    to: new Date("2100-01-01T00:00:00Z"),
  });
  return buckets.reduce((a, b) => mergeRollup(a, b.data, 1000), emptyRollup());
}

describe("POST /api/v1/ingest/cloudevents (KServe payload logging)", () => {
  it("pairs a V1 request and then its response by ce-id and stores the rows a direct ingest of the same predictions stores", async () => {
    const first = await postEvent(bot.url, kserveEvent("v1-request"), auth);
    expect(first).toEqual({
      status: 202,
      body: { status: "waiting", model: "iris", id: "0009174a-24a8-4603-b098-09c8799950e9" },
    });
    const second = await postEvent(bot.url, kserveEvent("v1-response"), auth);
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ status: "paired", model: "iris", stored: 2 });

    // The same predictions through the JSON API, into a twin model with the same features.
    const ts = "2021-04-10T00:23:26.078Z";
    const direct = [
      [6.8, 2.8, 4.8, 1.4],
      [6.0, 3.4, 4.5, 1.6],
    ].map((v, i) => ({
      id: `0009174a-24a8-4603-b098-09c8799950e9#${i}`,
      ts,
      model_version: "v1",
      prediction: 1,
      confidence: null,
      features: { sepal_length: v[0], sepal_width: v[1], petal_length: v[2], petal_width: v[3] },
    }));
    const res = await fetch(`${bot.url}/api/v1/models/iris-direct/predictions`, {
      method: "POST",
      headers: { "content-type": "application/json", ...auth },
      body: JSON.stringify(direct),
    });
    expect(await res.json()).toEqual({ received: 2, stored: 2 });

    const logged = await storedRows("iris");
    expect(logged).toHaveLength(2);
    expect(logged).toEqual(await storedRows("iris-direct"));
    expect(logged[0]).toMatchObject({ ts: "2021-04-10T00:23:26.078Z", model_version: "v1", prediction: "1" });
    const rollup = await rollupOf("iris");
    expect(rollup.rows).toBe(2);
    expect(rollup).toEqual(await rollupOf("iris-direct"));
  });

  it("pairs a V2 response that arrives before its request, taking the version the response names", async () => {
    expect((await postEvent(bot.url, kserveEvent("v2-response"), auth)).body).toMatchObject({
      status: "waiting",
    });
    const paired = await postEvent(bot.url, kserveEvent("v2-request"), auth);
    expect(paired).toMatchObject({ status: 200, body: { status: "paired", model: "iris-v2", stored: 2 } });
    const rows = await storedRows("iris-v2");
    expect(rows.map((r) => [r.request_id, r.model_version, r.prediction, r.num])).toEqual([
      ["823248cc-d770-4a51-9606-16803395569c#0", "v1.0.0", "1", [6.8, 2.8, 4.8, 1.4]],
      ["823248cc-d770-4a51-9606-16803395569c#1", "v1.0.0", "1", [6.0, 3.4, 4.5, 1.6]],
    ]);
    // The request's ce-time is the prediction time, whichever half came first.
    expect(rows[0]?.ts).toBe("2021-04-10T00:23:26.078Z");
  });

  it("halves of many inferences sent at once, each pair's two halves concurrently, all pair exactly once", async () => {
    const ids = Array.from({ length: 20 }, (_, i) => `race-${i}`);
    const answers = await Promise.all(
      ids.flatMap((id) =>
        ["v2-request", "v2-response"].map((name) =>
          postEvent(bot.url, kserveEvent(name, { "ce-id": id }), auth),
        ),
      ),
    );
    expect(answers.filter((a) => a.body.status === "paired")).toHaveLength(20);
    expect(answers.filter((a) => a.body.status === "waiting")).toHaveLength(20);
    const rows = resultRows<{ n: number }>(
      await database.db.execute(
        sql`select count(*)::int as n from predictions where request_id like 'race-%'`,
      ),
    );
    expect(rows[0]?.n).toBe(40);
  });

  it("a redelivered half of a pair already stored is answered as a duplicate and stores nothing twice", async () => {
    const before = await count("predictions");
    for (const name of ["v1-request", "v1-response"]) {
      const res = await postEvent(bot.url, kserveEvent(name), auth);
      expect(res).toMatchObject({ status: 200, body: { status: "duplicate" } });
    }
    expect(await count("predictions")).toBe(before);
  });

  const bad: [string, () => ReturnType<typeof kserveEvent>, RegExp][] = [
    ["no ce-id", () => kserveEvent("v1-request", { "ce-id": undefined }), /CloudEvent|ce-id/],
    [
      "a ce-type that is not a logged inference",
      () => kserveEvent("v1-request", { "ce-id": "b1", "ce-type": "com.example.other" }),
      /ce-type: 'com.example.other'/,
    ],
    [
      "an InferenceService no model maps",
      () => kserveEvent("v1-request", { "ce-id": "b2", "ce-inferenceservicename": "xgboost" }),
      /'xgboost' is not mapped/,
    ],
    [
      "another namespace than the mapped one",
      () => kserveEvent("v1-request", { "ce-id": "b3", "ce-namespace": "prod" }),
      /ce-namespace 'prod'/,
    ],
    [
      "data that is not JSON",
      () => ({ ...kserveEvent("v1-request", { "ce-id": "b4" }), body: "{not json" }),
      /not JSON/,
    ],
    [
      "a body of neither protocol",
      () => ({ ...kserveEvent("v1-request", { "ce-id": "b5" }), body: { rows: [] } }),
      /neither V1/,
    ],
    [
      "an instance too short for the mapped column",
      () => ({ ...kserveEvent("v1-request", { "ce-id": "b6" }), body: { instances: [[1, 2, 3]] } }),
      /instances\[0\] \(inference_logger\.features\.petal_width\): no column 3/,
    ],
    [
      "a V2 tensor whose data does not fill its shape",
      () => ({
        ...kserveEvent("v2-request", { "ce-id": "b7" }),
        body: { inputs: [{ name: "input-0", shape: [2, 4], datatype: "FP32", data: [1, 2, 3] }] },
      }),
      /inputs\[0\]\.data: 3 values do not fill shape \[2, 4\]/,
    ],
  ];
  for (const [what, event, reason] of bad) {
    it(`an event with ${what} gets 400 with the reason and writes nothing`, async () => {
      const before = [await count("predictions"), await count("payload_halves")];
      const res = await postEvent(bot.url, event(), auth);
      expect(res.status).toBe(400);
      expect(res.body.error).toBe("invalid_event");
      expect(String(res.body.message)).toMatch(reason);
      expect([await count("predictions"), await count("payload_halves")]).toEqual(before);
    });
  }

  it("a response whose prediction count differs from its request's is refused, and the request keeps waiting", async () => {
    const id = { "ce-id": "mismatch-1" };
    expect((await postEvent(bot.url, kserveEvent("v1-request", id), auth)).status).toBe(202);
    const before = [await count("predictions"), await count("payload_halves")];
    const res = await postEvent(
      bot.url,
      { ...kserveEvent("v1-response", id), body: { predictions: [1] } },
      auth,
    );
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/has 2 instance\(s\) and its response 1 prediction\(s\)/);
    expect([await count("predictions"), await count("payload_halves")]).toEqual(before);
    // The right response still pairs it.
    expect((await postEvent(bot.url, kserveEvent("v1-response", id), auth)).body).toMatchObject({
      status: "paired",
    });
  });

  it("needs a bearer token with the ingest scope unless the caller's address is allowlisted", async () => {
    const event = kserveEvent("v1-request", { "ce-id": "auth-1" });
    const before = await count("payload_halves");
    expect((await postEvent(bot.url, event)).status).toBe(401);
    expect((await postEvent(bot.url, event, { "x-forwarded-for": "192.0.2.7" })).status).toBe(401);
    expect((await postEvent(bot.url, event, { authorization: "Bearer not-a-token" })).status).toBe(401);
    const readOnly = await createApiTokenService(database.db, systemClock).create("reader", ["read"]);
    expect((await postEvent(bot.url, event, { authorization: `Bearer ${readOnly}` })).status).toBe(403);
    expect(await count("payload_halves")).toBe(before);
    const allowed = await postEvent(bot.url, event, { "x-forwarded-for": "10.1.2.3" });
    expect(allowed).toMatchObject({ status: 202, body: { status: "waiting" } });
    // The report is not open to allowlisted addresses: it needs a token.
    const report = await fetch(`${bot.url}/api/v1/ingest/cloudevents/unpaired`, {
      headers: { "x-forwarded-for": "10.1.2.3" },
    });
    expect(report.status).toBe(401);
  });

  it("a half whose partner never comes is expired after the window, counted in /metrics and listed in the unpaired report", async () => {
    const lonely = kserveEvent("v1-request", { "ce-id": "lonely-1" });
    expect((await postEvent(bot.url, lonely, auth)).status).toBe(202);
    let report = await unpairedReport();
    expect(report.models).toContainEqual(expect.objectContaining({ model: "iris", waiting_request: 2 }));

    clock.advance(4 * 60_000);
    await bot.payloadLog.sweep();
    report = await unpairedReport();
    expect(report.recent_unpaired).toEqual([]);

    clock.advance(2 * 60_000);
    await bot.payloadLog.sweep();
    report = await unpairedReport();
    expect(report.pair_window_ms).toBe(300_000);
    expect(report.recent_unpaired.map((u) => [u.id, u.half]).sort()).toEqual([
      ["auth-1", "request"],
      ["lonely-1", "request"],
    ]);
    expect(report.models).toContainEqual(
      expect.objectContaining({ model: "iris", waiting_request: 0, waiting_response: 0, unpaired: 2 }),
    );
    const metrics = await (await fetch(`${bot.url}/metrics`)).text();
    expect(metrics).toContain('mlops_cloudevents_unpaired_total{model="iris",half="request"} 2');
    expect(metrics).toContain('mlops_cloudevents_halves{model="iris",state="unpaired"} 2');
  });

  it("a partner that comes after its half expired still pairs, and the half leaves the unpaired count", async () => {
    const late = await postEvent(bot.url, kserveEvent("v1-response", { "ce-id": "lonely-1" }), auth);
    expect(late).toMatchObject({ status: 200, body: { status: "paired", stored: 2 } });
    const report = await unpairedReport();
    expect(report.recent_unpaired.map((u) => u.id)).toEqual(["auth-1"]);
    expect(report.models).toContainEqual(expect.objectContaining({ model: "iris", unpaired: 1 }));
  });

  it("after ingest.cloudevents.keep the sweep forgets paired ids and unpaired halves", async () => {
    expect(await count("payload_halves")).toBeGreaterThan(0);
    clock.advance(7 * 86_400_000 + 60_000);
    const swept = await bot.payloadLog.sweep();
    expect(swept.purged).toBeGreaterThan(0);
    expect(await count("payload_halves")).toBe(0);
    expect((await unpairedReport()).recent_unpaired).toEqual([]);
  });
});
