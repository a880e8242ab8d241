/**
 * POST /api/v1/models/:model/profiles: pre-aggregated per-minute profiles in the rollup's shape.
 * A profile built from rows gives monitors the same numbers as the rows themselves; a resent id
 * counts once; a bad profile gets 400 naming the field and stores nothing.
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resultRows } from "../../src/db/client.js";
import { predictionRowSchema, toStoredRow } from "../../src/ingest/model.js";
import { rollupLayout } from "../../src/ingest/service.js";
import { createModelRegistry, type RegisteredModel, slotCounts } from "../../src/models/index.js";
import { createRollupWindowRepository } from "../../src/monitoring/rollup-window.js";
import { rollupBatch } from "../../src/rollups/model.js";
import { systemClock } from "../../src/shared/clock.js";
import { demoConfig, startTestBot } from "../helpers/bot.js";
import { fraudRow, makeToken, seeded } from "../helpers/monitoring.js";

type TestBot = Awaited<ReturnType<typeof startTestBot>>;
let bot: TestBot;
let token: string;
const rand = seeded(11);
const PROFILES = "/api/v1/models/fraud-detector/profiles";
const MINUTE_A = Date.parse("2026-12-01T10:00:00Z");
const MINUTE_B = Date.parse("2026-12-01T10:05:00Z");

beforeAll(async () => {
  bot = await startTestBot();
  token = await makeToken(bot.database);
});
afterAll(async () => {
  await bot?.close();
});

async function post(path: string, body: unknown) {
  const res = await fetch(`${bot.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** What is stored, in a measure the folder does not change: folding moves a delta's rows into a minute rollup. */
async function stored(): Promise<number> {
  const r = await bot.database.db.execute(sql`select
    (select coalesce(sum((data->>'rows')::bigint), 0) from rollup_deltas)
    + (select coalesce(sum(rows), 0) from rollups where grain = 'minute')
    + (select count(*) from profile_receipts) as n`);
  return Number(resultRows<{ n: number }>(r)[0]?.n ?? -1);
}

function rowsAt(prefix: string, minute: number, n: number) {
  return Array.from({ length: n }, (_, i) => fraudRow(rand, `${prefix}-${i}`, new Date(minute + i * 100)));
}

/** The registered demo model (as the bot registered it at start). */
async function fraudModel(): Promise<RegisteredModel> {
  const registry = createModelRegistry(bot.database.db, systemClock);
  await registry.sync(demoConfig());
  return registry.get("fraud-detector");
}

/** What a client does: aggregate its rows of one minute into one profile. */
async function profileOf(id: string, rows: ReturnType<typeof rowsAt>) {
  const model = await fraudModel();
  const slots = new Map(model.features.map((f) => [f.name, f]));
  const counts = slotCounts(model.features);
  const stored = rows.map((r) => toStoredRow(predictionRowSchema.parse(r), slots, counts));
  const [one] = [...rollupBatch(stored, rollupLayout(model)).values()];
  if (!one) throw new Error("no rollup");
  return { id, model_version: one.version, bucket: one.bucket.toISOString(), rollup: one.data };
}

describe("POST /api/v1/models/:model/profiles", () => {
  it("a profile gives monitors the same numbers as the rows it was built from; a resent id counts once", async () => {
    const rowsA = rowsAt("pa", MINUTE_A, 200);
    const profile = await profileOf("pod-1@10:00", rowsA);
    expect(await post(PROFILES, [profile])).toEqual({ status: 200, body: { received: 1, stored: 1 } });
    expect(await post(PROFILES, [profile])).toEqual({ status: 200, body: { received: 1, stored: 0 } });
    // The same rows, with new ids, ingested as predictions into another minute.
    const rowsB = rowsA.map((r, i) => ({
      ...r,
      id: `pb-${i}`,
      ts: new Date(Date.parse(r.ts) + MINUTE_B - MINUTE_A).toISOString(),
    }));
    await post("/api/v1/models/fraud-detector/predictions", rowsB);
    const windows = createRollupWindowRepository(bot.database.db);
    const modelId = (await fraudModel()).id;
    const a = { kind: "window" as const, modelId, from: new Date(MINUTE_A), to: new Date(MINUTE_A + 60_000) };
    const b = { kind: "window" as const, modelId, from: new Date(MINUTE_B), to: new Date(MINUTE_B + 60_000) };
    const cols = [
      { key: 0, ref: { kind: "num" as const, slot: 1, name: "amount" }, edges: [10, 30, 100, 300] },
    ];
    expect((await windows.summary(a, 0.75)).rows).toBe(200);
    expect({ ...(await windows.summary(a, 0.75)), first: null, last: null }).toEqual({
      ...(await windows.summary(b, 0.75)),
      first: null,
      last: null,
    });
    expect(await windows.histograms(a, cols)).toEqual(await windows.histograms(b, cols));
  });

  it("bad profiles get 400 naming the field, and nothing is stored", async () => {
    const good = await profileOf("pod-2@10:10", rowsAt("pc", MINUTE_A + 10 * 60_000, 50));
    const bad: [string, unknown, string][] = [
      ["format", { ...good, rollup: { ...good.rollup, format: 2 } }, "rollup.format"],
      ["bucket not a minute start", { ...good, bucket: "2026-12-01T10:10:30Z" }, "bucket"],
      [
        "unknown feature",
        {
          ...good,
          rollup: { ...good.rollup, numeric: { ...good.rollup.numeric, height: good.rollup.numeric.amount } },
        },
        "rollup.numeric.height",
      ],
      [
        "counts that do not add up",
        {
          ...good,
          rollup: {
            ...good.rollup,
            numeric: { ...good.rollup.numeric, amount: { ...good.rollup.numeric.amount, n: 7 } },
          },
        },
        "rollup.numeric.amount.sketch",
      ],
      ["negative count", { ...good, rollup: { ...good.rollup, rows: -1 } }, "rollup.rows"],
      ["missing id", { ...good, id: undefined }, "id"],
    ];
    for (const [what, profile, field] of bad) {
      const before = await stored();
      const res = await post(PROFILES, [good, profile]);
      expect(res.status, what).toBe(400);
      expect(res.body.field, what).toBe(field);
      expect(String(res.body.message), what).toContain(`profile 1: ${field}`);
      expect(await stored(), what).toBe(before);
    }
    expect((await post(PROFILES, { not: "an array" })).status).toBe(400);
  });
});
