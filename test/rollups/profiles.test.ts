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
import {
  addProbabilities,
  type ClassCells,
  emptyRollup,
  MAX_CLASSES,
  type NumericAgg,
  rollupBatch,
} from "../../src/rollups/model.js";
import { checkProfile, type Profile, rollupSchema } from "../../src/rollups/profile.js";
import { SKETCH_INDEX_MAX } from "../../src/rollups/sketch.js";
import { systemClock } from "../../src/shared/clock.js";
import { demoConfig, startTestBot } from "../helpers/bot.js";
import { fraudRow, makeToken, seeded } from "../helpers/monitoring.js";
import { toFormat1 } from "../helpers/rollups.js";

type TestBot = Awaited<ReturnType<typeof startTestBot>>;
let bot: TestBot;
let token: string;
const rand = seeded(11);
const PROFILES = "/api/v1/models/fraud-detector/profiles";
const MINUTE_A = Date.parse("2026-12-01T10:00:00Z");
const MINUTE_B = Date.parse("2026-12-01T10:05:00Z");
const MINUTE_C = Date.parse("2026-12-01T10:20:00Z");
const MINUTE_D = Date.parse("2026-12-01T10:25:00Z");

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

  it("a profile in format 1 (binnings keyed by index, as clients built it before) counts as its format-2 twin", async () => {
    const rowsC = rowsAt("pf", MINUTE_C, 150);
    const rowsD = rowsC.map((r, i) => ({
      ...r,
      id: `pg-${i}`,
      ts: new Date(Date.parse(r.ts) + MINUTE_D - MINUTE_C).toISOString(),
    }));
    const current = await profileOf("pod-3@10:20", rowsC);
    const old = await profileOf("pod-3@10:25", rowsD);
    const v1 = { ...old, rollup: toFormat1(old.rollup) };
    expect(v1.rollup.format).toBe(1);
    expect(await post(PROFILES, [current, v1])).toEqual({ status: 200, body: { received: 2, stored: 2 } });
    const windows = createRollupWindowRepository(bot.database.db);
    const modelId = (await fraudModel()).id;
    const at = (m: number) => ({
      kind: "window" as const,
      modelId,
      from: new Date(m),
      to: new Date(m + 60_000),
    });
    const cols = [
      { key: 0, ref: { kind: "num" as const, slot: 1, name: "amount" }, edges: [10, 30, 100, 300] },
    ];
    expect((await windows.summary(at(MINUTE_D), 0.75)).rows).toBe(150);
    expect(await windows.histograms(at(MINUTE_D), cols)).toEqual(
      await windows.histograms(at(MINUTE_C), cols),
    );
    expect(await windows.describe(at(MINUTE_D), cols, [0.25, 0.5, 0.75])).toEqual(
      await windows.describe(at(MINUTE_C), cols, [0.25, 0.5, 0.75]),
    );
  });

  it("bad profiles get 400 naming the field, and nothing is stored", async () => {
    const good = await profileOf("pod-2@10:10", rowsAt("pc", MINUTE_A + 10 * 60_000, 50));
    const amount = good.rollup.numeric.amount as NumericAgg;
    const v1 = toFormat1(good.rollup);
    const bad: [string, unknown, string][] = [
      ["format", { ...good, rollup: { ...good.rollup, format: 3 } }, "rollup.format"],
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
      [
        "sketch counts past the largest finite value",
        {
          ...good,
          rollup: {
            ...good.rollup,
            numeric: {
              ...good.rollup.numeric,
              amount: {
                ...amount,
                sketch: { ...amount.sketch, pos: { offset: SKETCH_INDEX_MAX, counts: [1, 1] } },
              },
            },
          },
        },
        "rollup.numeric.amount.sketch.pos",
      ],
      [
        "format 1 with aligned bins wider than 512",
        {
          ...good,
          rollup: {
            ...v1,
            numeric: {
              ...v1.numeric,
              amount: { ...v1.numeric.amount, aligned: { exp: 0, bins: { "0": amount.n - 1, "600": 1 } } },
            },
          },
        },
        "rollup.numeric.amount.aligned.bins",
      ],
      ["missing id", { ...good, id: undefined }, "id"],
      [
        "class cells on a binary model",
        {
          ...good,
          rollup: {
            ...good.rollup,
            classCells: { "1": { predicted: { "900": [1, 0.9, 0, 0] }, other: {} } },
          },
        },
        "rollup.classCells",
      ],
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

describe("class cells in a multiclass model's profile", () => {
  const features = { numeric: new Set<string>(), categorical: new Set<string>(), multiclass: true };
  function profileWith(cells: (c: ClassCells) => void, rows = 2): Profile {
    const rollup = emptyRollup();
    rollup.rows = rows;
    rollup.prediction = { n: rows, values: { a: rows }, other: 0 };
    rollup.classCells = {};
    addProbabilities(rollup.classCells, { a: 0.7, b: 0.3 }, "a", "a");
    addProbabilities(rollup.classCells, { a: 0.6, b: 0.4 }, "a", null);
    cells(rollup.classCells);
    return { id: "p", model_version: "v1", bucket: "2026-12-01T10:00:00Z", rollup };
  }
  const check = (p: Profile) => {
    const parsed = rollupSchema.safeParse(JSON.parse(JSON.stringify(p.rollup)));
    if (!parsed.success) return parsed.error.issues[0]?.path.join(".");
    return checkProfile(p, features)?.path ?? null;
  };

  it("cells built from rows pass; cells that cannot come from rows are refused, naming the cell", () => {
    expect(check(profileWith(() => {}))).toBeNull();
    expect(
      checkProfile(
        profileWith(() => {}),
        { ...features, multiclass: false },
      )?.path,
    ).toBe("rollup.classCells");
    const cellA = (c: ClassCells) => c.a?.predicted["700"] as [number, number, number, number];
    expect(check(profileWith((c) => (cellA(c)[2] = 2)))).toBe("rollup.classCells.a.predicted.700");
    expect(check(profileWith((c) => (cellA(c)[1] = 0.9)))).toBe("rollup.classCells.a.predicted.700");
    expect(check(profileWith(() => {}, 1))).toBe("rollup.classCells.a");
    expect(check(profileWith((c) => (cellA(c)[0] = -1)))).toMatch(/^classCells\.a\.predicted\.700/);
    expect(check(profileWith((c) => Object.assign(c.a?.other ?? {}, { "1001": [1, 1, 0, 0] })))).toMatch(
      /^classCells\.a\.other/,
    );
  });

  it("a rollup keeps at most 1,000 classes, however many names the rows bring", () => {
    const cells: ClassCells = {};
    for (let i = 0; i < 1001; i++) addProbabilities(cells, { [`c${i}`]: 0.5, shared: 0.5 }, "shared", null);
    expect(Object.keys(cells)).toHaveLength(MAX_CLASSES);
    expect(cells.shared?.predicted["500"]?.[0]).toBe(1001);
  });
});
