/**
 * Rollups and deltas stored by the previous release (format 1: binning counts keyed by index) are
 * read as they are: a window over them holds exactly what a window over the same data in format 2
 * holds, and the folder rewrites a bucket in format 2 when it folds a delta into it.
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resultRows } from "../../src/db/client.js";
import type { Database } from "../../src/db/index.js";
import { createRollupWindowRepository } from "../../src/monitoring/rollup-window.js";
import { multiclassCells } from "../../src/monitoring/stats/index.js";
import { type AnyRollup, decodeRollup } from "../../src/rollups/format.js";
import { type RollupLayout, type RollupRow, rollupBatch } from "../../src/rollups/model.js";
import { createRollupRepository, type RollupRepository } from "../../src/rollups/repository.js";
import { openTestDatabase } from "../helpers/db.js";
import { normal, seeded } from "../helpers/monitoring.js";
import { toFormat1 } from "../helpers/rollups.js";

const MINUTE = 60_000;
const START = Date.parse("2026-11-30T10:40:00Z");
const layout: RollupLayout = {
  numeric: ["a", "b"],
  categorical: ["c"],
  regression: false,
  maxCategories: 1000,
};
const rand = seeded(21);

let database: Database;
let repo: RollupRepository;
let current = 0;
let legacy = 0;

/** `n` predictions spread over `minutes` from `from`. */
function rows(n: number, from: number, minutes: number): (RollupRow & { v: string })[] {
  return Array.from({ length: n }, (_, i) => ({
    t: new Date(from + Math.floor((i * minutes * MINUTE) / n)).toISOString(),
    v: i % 3 === 0 ? "v2" : "v1",
    p: rand() < 0.3 ? "1" : "0",
    c: Math.round((0.5 + rand() / 2) * 1e4) / 1e4,
    n: [Math.exp(2 + normal(rand)), i % 7 === 0 ? null : 40 + rand()],
    k: [["x", "y", "z"][Math.floor(rand() * 3)] as string],
    x: null,
    l: rand() < 0.5 ? (rand() < 0.3 ? "1" : "0") : null,
  }));
}

async function formats(modelId: number, table: "rollups" | "rollup_deltas"): Promise<string[]> {
  const r = resultRows<{ f: string }>(
    await database.db.execute(
      sql`select distinct data->>'format' as f from ${sql.raw(table)} where model_id = ${modelId} order by 1`,
    ),
  );
  return r.map((x) => x.f);
}

/** A window over both models, from 10:45 to 12:05: minute rollups at both edges, an hour between. */
async function windows() {
  const w = (modelId: number) =>
    repo.window({ modelId, from: new Date(START + 5 * MINUTE), to: new Date(START + 85 * MINUTE) });
  return { current: await w(current), legacy: await w(legacy) };
}

beforeAll(async () => {
  database = await openTestDatabase();
  const ids = resultRows<{ id: number }>(
    await database.db.execute(sql`insert into models (slug, name, task, confidence_threshold, features)
      values ('current', 'Current', 'binary_classification', 0.75, '[]'::jsonb),
             ('legacy', 'Legacy', 'binary_classification', 0.75, '[]'::jsonb)
      returning id`),
  );
  current = ids[0]?.id as number;
  legacy = ids[1]?.id as number;
  repo = createRollupRepository(database.db);
  // The current release's rollups of 90 minutes of traffic.
  await repo.insertDeltas(database.db, current, rollupBatch(rows(900, START, 90), layout).values());
  while ((await repo.fold()) > 0) {}
  // The same rollups as the previous release stored them.
  const stored = resultRows<{
    grain: string;
    bucket: string;
    model_version: string;
    rows: number;
    data: AnyRollup;
  }>(
    await database.db.execute(
      sql`select grain, bucket, model_version, rows, data from rollups where model_id = ${current}`,
    ),
  );
  for (const r of stored)
    await database.db.execute(sql`insert into rollups (model_id, segment, grain, bucket, model_version, rows, data)
      values (${legacy}, '', ${r.grain}, ${new Date(r.bucket).toISOString()}::timestamptz, ${r.model_version}, ${r.rows},
        ${JSON.stringify(toFormat1(decodeRollup(r.data)))}::json)`);
  // Late traffic in the second hour, not folded yet: a format-2 delta and its format-1 twin.
  for (const d of rollupBatch(rows(200, START + 30 * MINUTE, 30), layout).values()) {
    await repo.insertDeltas(database.db, current, [d]);
    await database.db.execute(sql`insert into rollup_deltas (model_id, segment, bucket, model_version, data)
      values (${legacy}, '', ${d.bucket.toISOString()}::timestamptz, ${d.version}, ${JSON.stringify(toFormat1(d.data))}::json)`);
  }
}, 120_000);

afterAll(async () => {
  await database?.close();
});

describe("rollups stored in format 1", () => {
  it("a window over format-1 rollups and deltas holds what the same window in format 2 holds", async () => {
    expect(await formats(legacy, "rollups")).toEqual(["1"]);
    expect(await formats(legacy, "rollup_deltas")).toEqual(["1"]);
    expect(await formats(current, "rollups")).toEqual(["2"]);
    const w = await windows();
    // Minutes 10:45–10:59, the 11:00 hour, minutes 12:00–12:04, and the 30 delta minutes in between.
    expect(w.current.length).toBe(51);
    expect(w.legacy).toEqual(w.current);
    // And what monitors compute from it.
    const reductions = createRollupWindowRepository(database.db);
    const src = (modelId: number) => ({
      kind: "window" as const,
      modelId,
      from: new Date(START + 5 * MINUTE),
      to: new Date(START + 85 * MINUTE),
    });
    const cols = [
      { key: 0, ref: { kind: "num" as const, slot: 1, name: "a" }, edges: [3, 7, 10, 20] },
      { key: 1, ref: { kind: "num" as const, slot: 2, name: "b" }, edges: [40.25, 40.5, 40.75] },
    ];
    expect(await reductions.histograms(src(legacy), cols)).toEqual(
      await reductions.histograms(src(current), cols),
    );
    expect(await reductions.describe(src(legacy), cols, [0.1, 0.5, 0.9])).toEqual(
      await reductions.describe(src(current), cols, [0.1, 0.5, 0.9]),
    );
  });

  it("folding a format-1 delta into format-1 rollups writes those buckets in format 2, numbers unchanged", async () => {
    while ((await repo.fold()) > 0) {}
    const rewritten = resultRows<{ grain: string; f: string; n: number }>(
      await database.db.execute(sql`select grain, data->>'format' as f, count(*)::int as n from rollups
        where model_id = ${legacy} group by 1, 2 order by 1, 2`),
    );
    // The late traffic touched the 11:00 hour (both versions) and 30 of its minutes; the 10:00
    // and 12:00 hours and the other minutes keep format 1.
    expect(rewritten.filter((r) => r.grain === "hour")).toEqual([
      { grain: "hour", f: "1", n: 4 },
      { grain: "hour", f: "2", n: 2 },
    ]);
    expect(rewritten.find((r) => r.grain === "minute" && r.f === "2")?.n).toBe(60);
    expect(await formats(legacy, "rollup_deltas")).toEqual([]);
    const w = await windows();
    expect(w.legacy).toEqual(w.current);
  });

  it("rollups written before class cells read as holding none; rows with probabilities folded into them add just theirs", async () => {
    const [row] = resultRows<{ id: number }>(
      await database.db.execute(sql`insert into models (slug, name, task, confidence_threshold, features)
        values ('mixed', 'Mixed', 'multiclass_classification', 0.5, '[]'::jsonb) returning id`),
    );
    const model = row?.id as number;
    const reductions = createRollupWindowRepository(database.db);
    const src = {
      kind: "window" as const,
      modelId: model,
      from: new Date(START),
      to: new Date(START + 90 * MINUTE),
    };
    // Rows without probabilities, as every rollup before the field (no `classCells` key at all).
    await repo.insertDeltas(database.db, model, rollupBatch(rows(300, START, 90), layout).values());
    while ((await repo.fold()) > 0) {}
    const before = resultRows<{ n: number }>(
      await database.db.execute(
        sql`select count(*)::int as n from rollups where model_id = ${model} and data::jsonb ? 'classCells'`,
      ),
    );
    expect(before[0]?.n).toBe(0);
    expect(await reductions.classCells(src, 1)).toEqual([]);
    // Then rows with probabilities in the same buckets.
    const withProbabilities = rows(120, START, 90).map((r, i) => ({
      ...r,
      p: i % 2 ? "a" : "b",
      l: null,
      q: i % 2 ? { a: 0.75, b: 0.25 } : { a: 0.125, b: 0.875 },
    }));
    await repo.insertDeltas(database.db, model, rollupBatch(withProbabilities, layout).values());
    while ((await repo.fold()) > 0) {}
    const cells = await reductions.classCells(src, 1);
    const want = multiclassCells(
      withProbabilities.map((r) => [r.q.a, r.q.b]),
      withProbabilities.map((r) => (r.p === "a" ? 0 : 1)),
    ).map((c) => ({ cls: c.k === 0 ? "a" : "b", bin: c.bin, predicted: c.predicted, n: c.n, sp: c.sp }));
    const key = (c: { cls: string; bin: number; predicted: boolean }) => `${c.cls}|${c.bin}|${c.predicted}`;
    expect(
      cells
        .map((c) => ({ cls: c.cls, bin: c.bin, predicted: c.predicted, n: c.n, sp: c.sp }))
        .sort((x, y) => (key(x) < key(y) ? -1 : 1)),
    ).toEqual(want.sort((x, y) => (key(x) < key(y) ? -1 : 1)));
    expect((await reductions.summary(src, 0.5)).rows).toBe(420);
  });
});
