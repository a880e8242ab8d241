/**
 * What a window reads: exactly the predictions whose minute starts in [from, to), whichever
 * rollups it takes them from. A window ending inside an hour reads that hour's rollup instead of
 * its minutes only when the hour holds nothing at or after the window's end (per version), and
 * unfolded deltas always count.
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resultRows } from "../../src/db/client.js";
import type { Database } from "../../src/db/index.js";
import {
  emptyRollup,
  mergeRollup,
  minuteOf,
  type RollupData,
  type RollupLayout,
  type RollupRow,
  rollupBatch,
} from "../../src/rollups/model.js";
import {
  createRollupRepository,
  type RollupRepository,
  type WindowBucket,
} from "../../src/rollups/repository.js";
import { openTestDatabase } from "../helpers/db.js";
import { normal, seeded } from "../helpers/monitoring.js";

const MINUTE = 60_000;
const H10 = Date.parse("2026-11-30T10:00:00Z");
const layout: RollupLayout = { numeric: ["a"], categorical: [], regression: false, maxCategories: 1000 };
const rand = seeded(33);

let database: Database;
let repo: RollupRepository;
let modelId = 0;
const sent: (RollupRow & { v: string })[] = [];

/** `n` predictions of `version` spread over [from, to). */
function rows(version: string, n: number, from: number, to: number): (RollupRow & { v: string })[] {
  return Array.from({ length: n }, (_, i) => ({
    t: new Date(from + Math.floor((i * (to - from)) / n)).toISOString(),
    v: version,
    p: rand() < 0.3 ? "1" : "0",
    c: Math.round((0.5 + rand() / 2) * 1e4) / 1e4,
    n: [Math.exp(1 + normal(rand))],
    k: [],
    x: null,
    l: rand() < 0.4 ? "1" : null,
  }));
}

async function send(batch: (RollupRow & { v: string })[], fold: boolean) {
  sent.push(...batch);
  await repo.insertDeltas(database.db, modelId, rollupBatch(batch, layout).values());
  if (fold) while ((await repo.fold()) > 0) {}
}

const merged = (ds: RollupData[]) => ds.reduce((a, d) => mergeRollup(a, structuredClone(d)), emptyRollup());

/** What the window must hold: every prediction sent whose minute starts in [from, to). */
function truth(from: number, to: number): RollupData {
  const inside = sent.filter((r) => {
    const m = minuteOf(r.t).getTime();
    return m >= Math.ceil(from / MINUTE) * MINUTE && m < Math.ceil(to / MINUTE) * MINUTE;
  });
  return merged([...rollupBatch(inside, layout).values()].map((d) => d.data));
}

/** The parts of a rollup that must match exactly (sums are compared to rounding). */
function exact(d: RollupData) {
  const a = d.numeric.a;
  return {
    rows: d.rows,
    first: d.first,
    last: d.last,
    a: a && { n: a.n, min: a.min, max: a.max, sketch: a.sketch, aligned: a.aligned, sum: a.sum.toFixed(6) },
    labels: d.labels,
    classes: d.confidence.classes,
  };
}

async function read(from: number, to: number): Promise<WindowBucket[]> {
  return repo.window({ modelId, from: new Date(from), to: new Date(to) });
}

beforeAll(async () => {
  database = await openTestDatabase();
  const [m] = resultRows<{ id: number }>(
    await database.db.execute(sql`insert into models (slug, name, task, confidence_threshold, features)
      values ('w', 'W', 'binary_classification', 0.75, '[]'::jsonb) returning id`),
  );
  modelId = m?.id as number;
  repo = createRollupRepository(database.db);
  // Two versions from 09:20 to 10:40.
  await send(rows("v1", 500, H10 - 40 * MINUTE, H10 + 40 * MINUTE), true);
  await send(rows("v2", 300, H10 - 40 * MINUTE, H10 + 40 * MINUTE), true);
}, 120_000);

afterAll(async () => {
  await database?.close();
});

describe("a window ending inside an hour", () => {
  it("reads the hour's rollup when nothing of the hour lies at or after its end", async () => {
    const from = H10 - 30 * MINUTE;
    const to = H10 + 45 * MINUTE;
    const buckets = await read(from, to);
    // 09:30–09:59 from minute rollups, then the 10:00 hour as one bucket.
    expect(buckets.map((b) => b.bucket).filter((b) => b >= H10)).toEqual([H10]);
    expect(exact(merged(buckets.map((b) => b.data)))).toEqual(exact(truth(from, to)));
  });

  it("reads minutes when the hour holds predictions past the window's end", async () => {
    const from = H10 - 30 * MINUTE;
    const to = H10 + 20 * MINUTE + 30_000;
    const buckets = await read(from, to);
    expect(buckets.filter((b) => b.bucket >= H10).length).toBe(21);
    expect(exact(merged(buckets.map((b) => b.data)))).toEqual(exact(truth(from, to)));
  });

  it("decides per version, and counts deltas not folded yet", async () => {
    // v2 gets a prediction stamped 10:50 (folded), v1 more traffic at 10:41 (not folded yet).
    await send(rows("v2", 1, H10 + 50 * MINUTE, H10 + 51 * MINUTE), true);
    await send(rows("v1", 20, H10 + 41 * MINUTE, H10 + 42 * MINUTE), false);
    const from = H10 - 30 * MINUTE;
    const to = H10 + 45 * MINUTE;
    const only = async (version: string) =>
      repo.window({ modelId, version, from: new Date(from), to: new Date(to) });
    // v1's hour still holds nothing past 10:45; v2's does, so its minutes are read.
    expect((await only("v1")).filter((b) => b.bucket >= H10).map((b) => b.bucket)).toEqual([
      H10,
      H10 + 41 * MINUTE,
    ]);
    expect((await only("v2")).filter((b) => b.bucket >= H10).length).toBe(40);
    expect(exact(merged((await read(from, to)).map((b) => b.data)))).toEqual(exact(truth(from, to)));
  });
});
