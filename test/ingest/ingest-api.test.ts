import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resultRows } from "../../src/db/client.js";
import { demoConfig, startTestBot } from "../helpers/bot.js";
import { fraudRow, makeToken, seeded } from "../helpers/monitoring.js";

type TestBot = Awaited<ReturnType<typeof startTestBot>>;
let bot: TestBot;
let token: string;
const rand = seeded(7);

beforeAll(async () => {
  // The demo's model, and a multiclass one (no monitors) whose rows may carry class probabilities.
  const demo = demoConfig();
  const fraud = demo.models[0] as (typeof demo.models)[number];
  const triage = { ...fraud, slug: "triage", name: "Triage", task: "multiclass_classification" as const };
  bot = await startTestBot({ config: { ...demo, models: [fraud, { ...triage, monitors: {} }] } });
  token = await makeToken(bot.database);
});
afterAll(async () => {
  await bot?.close();
});

async function post(path: string, body: unknown, auth: string | null = token) {
  const res = await fetch(`${bot.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(auth ? { authorization: `Bearer ${auth}` } : {}) },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function stored(): Promise<number> {
  const r = await bot.database.db.execute(sql`select count(*)::int as n from predictions`);
  return resultRows<{ n: number }>(r)[0]?.n ?? -1;
}

function batch(prefix: string, n: number) {
  return Array.from({ length: n }, (_, i) =>
    fraudRow(rand, `${prefix}-${i}`, new Date(Date.now() - i * 1000)),
  );
}

const PREDICTIONS = "/api/v1/models/fraud-detector/predictions";

describe("POST /api/v1/models/:model/predictions", () => {
  it("stores a valid batch and answers how many rows were new", async () => {
    const before = await stored();
    const res = await post(PREDICTIONS, batch("a", 250));
    expect(res).toEqual({ status: 200, body: { received: 250, stored: 250 } });
    expect(await stored()).toBe(before + 250);
  });

  it("a replayed batch stores nothing twice", async () => {
    const rows = batch("replay", 40);
    expect((await post(PREDICTIONS, rows)).body).toEqual({ received: 40, stored: 40 });
    const after = await stored();
    expect((await post(PREDICTIONS, rows)).body).toEqual({ received: 40, stored: 0 });
    expect(await stored()).toBe(after);
    // A batch mixing replayed and new rows stores only the new ones.
    expect((await post(PREDICTIONS, [...rows.slice(0, 10), ...batch("replay-new", 5)])).body).toEqual({
      received: 15,
      stored: 5,
    });
  });

  it("a batch with one bad row gets 400 naming the row and field, and nothing of it is stored", async () => {
    const before = await stored();
    const rows: unknown[] = batch("bad", 10);
    (rows[3] as { confidence: number }).confidence = 1.5;
    const res = await post(PREDICTIONS, rows);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: "invalid_batch", row: 3, field: "confidence" });
    expect(String(res.body.message)).toMatch(/^row 3: confidence: /);
    expect(await stored()).toBe(before);

    const wrongType = batch("bad2", 5) as unknown as Record<string, unknown>[];
    (wrongType[4] as { features: Record<string, unknown> }).features.amount = { nested: true };
    const res2 = await post(PREDICTIONS, wrongType);
    expect(res2.body).toMatchObject({ row: 4, field: "features.amount" });
    expect(await stored()).toBe(before);
  });

  it("refuses an empty batch, more than 10,000 rows, and a body that is not an array", async () => {
    const before = await stored();
    for (const body of [[], batch("big", 10_001), { rows: [] }, "not json"]) {
      const res = await post(PREDICTIONS, body);
      expect(res.status).toBe(400);
    }
    expect(await stored()).toBe(before);
  });

  it("no token or a wrong token gets 401 before the body is read", async () => {
    expect((await post(PREDICTIONS, batch("x", 1), null)).status).toBe(401);
    expect(
      (await post(PREDICTIONS, batch("x", 1), "mlops_0000000000000000000000000000000000000000")).status,
    ).toBe(401);
  });

  it("an unknown model gets 404", async () => {
    const res = await post("/api/v1/models/no-such-model/predictions", batch("x", 1));
    expect(res).toMatchObject({ status: 404, body: { error: "unknown_model" } });
  });

  it("a body over the limit gets 413 and nothing is stored", async () => {
    const before = await stored();
    const huge = `[${"0".repeat(33 * 1024 * 1024)}]`;
    const res = await post(PREDICTIONS, huge);
    expect(res.status).toBe(413);
    expect(await stored()).toBe(before);
  });

  it("keeps unknown features and wrongly typed values apart, and records new model versions", async () => {
    const row = { ...fraudRow(rand, "extra-1", new Date()), model_version: "v2" };
    (row.features as Record<string, unknown>).amount = "12.5";
    (row.features as Record<string, unknown>).loyalty_tier = "gold";
    expect((await post(PREDICTIONS, [row])).body).toEqual({ received: 1, stored: 1 });
    const r = resultRows<{ extra: Record<string, unknown>; n1: number | null }>(
      await bot.database.db.execute(
        sql`select extra, num[1] as n1 from predictions where request_id = 'extra-1'`,
      ),
    );
    expect(r[0]).toEqual({ extra: { amount: "12.5", loyalty_tier: "gold" }, n1: null });
    const versions = resultRows<{ version: string; is_champion: boolean }>(
      await bot.database.db.execute(sql`select version, is_champion from model_versions
          where model_id = (select id from models where slug = 'fraud-detector') order by version`),
    );
    expect(versions).toEqual([
      { version: "v1", is_champion: true },
      { version: "v2", is_champion: false },
    ]);
  });
});

describe("POST /api/v1/models/:model/labels", () => {
  it("joins labels to stored predictions by id and counts the ids it does not know", async () => {
    await post(PREDICTIONS, batch("lab", 20));
    const res = await post("/api/v1/models/fraud-detector/labels", [
      { id: "lab-0", label: 1 },
      { id: "lab-1", label: 0 },
      { id: "never-seen", label: 1 },
    ]);
    expect(res).toEqual({ status: 200, body: { received: 3, matched: 2, pending: 1 } });
    const r = resultRows<{ request_id: string; label: string }>(
      await bot.database.db.execute(
        sql`select request_id, label from predictions where label is not null order by request_id`,
      ),
    );
    expect(r).toEqual([
      { request_id: "lab-0", label: "1" },
      { request_id: "lab-1", label: "0" },
    ]);
  });

  it("a bad label row gets 400 naming it and changes nothing", async () => {
    const res = await post("/api/v1/models/fraud-detector/labels", [
      { id: "lab-2", label: 1 },
      { id: "lab-3" },
    ]);
    expect(res).toMatchObject({ status: 400, body: { row: 1, field: "label" } });
    const r = resultRows<{ n: number }>(
      await bot.database.db.execute(sql`select count(label)::int as n from predictions`),
    );
    expect(r[0]?.n).toBe(2);
  });
});

describe("POST /api/v1/models/:model/reference", () => {
  async function counts() {
    const r = resultRows<{ profiles: number; samples: number }>(
      await bot.database.db.execute(
        sql`select (select count(*)::int from reference_profiles) as profiles, (select count(*)::int from reference_samples) as samples`,
      ),
    );
    return r[0];
  }

  it("profiles a labelled upload, stores it as the reference and keeps none of the staged rows", async () => {
    const rows = batch("upload", 600).map((r) => {
      const p1 = r.prediction === 1 ? r.confidence : 1 - r.confidence;
      return { ...r, label: rand() < p1 ? 1 : 0 };
    });
    const res = await post("/api/v1/models/fraud-detector/reference", rows);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ model: "fraud-detector", rows: 600, labelledRows: 600, features: 7 });
    expect(await counts()).toEqual({ profiles: 1, samples: 0 });
  });

  it("a labelled upload with a bad row gets 400 naming it and stores nothing", async () => {
    const rows: Record<string, unknown>[] = batch("upload-bad", 100).map((r) => ({ ...r, label: 1 }));
    delete rows[42]?.label;
    const res = await post("/api/v1/models/fraud-detector/reference", rows);
    expect(res).toMatchObject({ status: 400, body: { row: 42, field: "label" } });
    expect(await counts()).toEqual({ profiles: 1, samples: 0 });
  });

  it("profiles a window of ingested predictions, and refuses a window with too few", async () => {
    const now = Date.now();
    const ok = await post("/api/v1/models/fraud-detector/reference", {
      from: new Date(now - 3_600_000).toISOString(),
      to: new Date(now + 1000).toISOString(),
    });
    expect(ok.status).toBe(201);
    expect(Number(ok.body.rows)).toBeGreaterThanOrEqual(250);
    const empty = await post("/api/v1/models/fraud-detector/reference", {
      from: "2020-01-01T00:00:00Z",
      to: "2020-01-02T00:00:00Z",
    });
    expect(empty).toMatchObject({ status: 422, body: { error: "not_enough_data" } });
    const bad = await post("/api/v1/models/fraud-detector/reference", { from: "yesterday" });
    expect(bad.status).toBe(400);
    expect(await counts()).toEqual({ profiles: 2, samples: 0 });
  });
});

describe("class probabilities of a multiclass model", () => {
  const TRIAGE = "/api/v1/models/triage/predictions";
  const probs = { low: 0.2, mid: 0.7, high: 0.1 };
  const rows = (prefix: string, n: number) =>
    batch(prefix, n).map((r) => ({ ...r, prediction: "mid", confidence: 0.7, probabilities: probs }));
  const stuck = (res: { status: number; body: Record<string, unknown> }, row: number) => {
    expect(res).toMatchObject({ status: 400, body: { error: "invalid_batch", row, field: "probabilities" } });
    expect(String(res.body.message)).toMatch(new RegExp(`^row ${row}: probabilities: `));
  };

  it("stores the vector with the prediction", async () => {
    expect((await post(TRIAGE, rows("probs", 5))).body).toEqual({ received: 5, stored: 5 });
    const r = await bot.database.db.execute(
      sql`select probabilities from predictions where request_id like 'probs-%' order by request_id`,
    );
    expect(resultRows<{ probabilities: unknown }>(r).map((x) => x.probabilities)).toEqual(
      Array.from({ length: 5 }, () => probs),
    );
  });

  it("a vector not summing to 1, or without the predicted class, gets 400 naming the row", async () => {
    const before = await stored();
    const sum = rows("probs-sum", 6);
    (sum[4] as { probabilities: Record<string, number> }).probabilities = { low: 0.2, mid: 0.7, high: 0.2 };
    stuck(await post(TRIAGE, sum), 4);
    const missing = rows("probs-missing", 3);
    (missing[1] as { prediction: string }).prediction = "none";
    const res = await post(TRIAGE, missing);
    stuck(res, 1);
    expect(String(res.body.message)).toMatch(/predicted class "none" is not among them/);
    expect(await stored()).toBe(before);
  });

  it("a binary model's row with probabilities gets 400, in predictions and reference uploads", async () => {
    const before = await stored();
    const bad: Record<string, unknown>[] = batch("probs-binary", 4);
    bad[2] = { ...bad[2], probabilities: { "0": 0.4, "1": 0.6 } };
    stuck(await post(PREDICTIONS, bad), 2);
    const labelled = bad.map((r) => ({ ...r, label: 1 }));
    stuck(await post("/api/v1/models/fraud-detector/reference", labelled), 2);
    expect(await stored()).toBe(before);
  });

  it("a labelled upload's bad vector gets 400 naming the row and stages nothing", async () => {
    const labelled = rows("probs-ref", 5).map((r) => ({ ...r, label: "mid" }));
    (labelled[3] as { probabilities: unknown }).probabilities = { low: 1.5, mid: -0.5 };
    stuck(await post("/api/v1/models/triage/reference", labelled), 3);
    const r = await bot.database.db.execute(sql`select count(*)::int as n from reference_samples`);
    expect(resultRows<{ n: number }>(r)[0]?.n).toBe(0);
  });
});
