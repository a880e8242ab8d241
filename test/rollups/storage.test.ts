/**
 * The data path under production rules: replays and late or early labels counted exactly once,
 * labels that never match counted, monitors that never read raw rows, and 120 simulated days at
 * the default retention with tables that level off.
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resultRows } from "../../src/db/client.js";
import type { Database } from "../../src/db/index.js";
import { createRollupWindowRepository } from "../../src/monitoring/rollup-window.js";
import { createRawWindowRepository } from "../../src/monitoring/window-repository.js";
import { createLabelRepository } from "../../src/rollups/worker.js";
import { createMonitoringFeature, type MonitoringFeature } from "../../src/wiring/monitoring-feature.js";
import { openTestDatabase } from "../helpers/db.js";
import {
  featureContext,
  manualClock,
  normal,
  recordingSink,
  seeded,
  simConfig,
} from "../helpers/monitoring.js";

const DAY = 86_400_000;
const HOUR = 3_600_000;
const START = new Date("2026-01-01T00:00:00Z");
const config = simConfig(
  {
    drift: { window: "1d", schedule: "0 * * * *" },
    data_quality: { window: "1d" },
    confidence: { window: "1d" },
    performance: { window: "1d", min_labels: 50 },
  },
  { features: 3, categorical: ["c"] },
);

let database: Database;
let feature: MonitoringFeature;
const clock = manualClock(START);
const rand = seeded(7);

function rows(prefix: string, n: number, from: Date, span: number) {
  return Array.from({ length: n }, (_, i) => ({
    id: `${prefix}-${i}`,
    ts: new Date(from.getTime() + Math.floor((i * span) / n)).toISOString(),
    model_version: "v1",
    prediction: rand() < 0.3 ? 1 : 0,
    confidence: Math.round((0.5 + rand() / 2) * 1e4) / 1e4,
    features: {
      f0: normal(rand),
      f1: normal(rand) * 2,
      f2: Math.floor(rand() * 5),
      c: ["a", "b", "c"][Math.floor(rand() * 3)] as string,
    },
  }));
}

const window = (from: Date, to: Date) => ({
  kind: "window" as const,
  modelId: feature.registry.get("sim").id,
  from,
  to,
});

/** Bytes on disk of every partition of `predictions`, indexes included. */
async function rawBytes(): Promise<number> {
  const [r] = resultRows<{ n: number }>(
    await database.db.execute(
      sql`select coalesce(sum(pg_total_relation_size(relid)), 0)::float8 as n from pg_partition_tree('predictions') where isleaf`,
    ),
  );
  return Number(r?.n ?? 0);
}

async function count(table: string): Promise<number> {
  const [r] = resultRows<{ n: number }>(
    await database.db.execute(sql.raw(`select count(*)::int as n from ${table}`)),
  );
  return r?.n ?? 0;
}

beforeAll(async () => {
  database = await openTestDatabase();
  feature = createMonitoringFeature(featureContext(database, config, clock), {
    sink: recordingSink(),
    schedule: false,
  });
  await feature.ready();
});

afterAll(async () => {
  await feature.stop?.();
  await database.close();
});

describe("counts that a fresh computation would give", () => {
  it("a replayed batch, late labels, relabels and early labels are each counted once", async () => {
    const from = new Date(START.getTime() + HOUR);
    clock.set(new Date(from.getTime() + 2 * HOUR));
    const a = rows("a", 300, from, HOUR);
    expect(await feature.ingest.ingestPredictions("sim", a)).toEqual({ received: 300, stored: 300 });
    expect(await feature.ingest.ingestPredictions("sim", a)).toEqual({ received: 300, stored: 0 });
    // Late labels, hours after their predictions; then some of them relabelled.
    clock.advance(5 * HOUR);
    await feature.ingest.ingestLabels(
      "sim",
      a.slice(0, 200).map((r) => ({ id: r.id, label: r.prediction })),
    );
    await feature.ingest.ingestLabels(
      "sim",
      a.slice(0, 50).map((r) => ({ id: r.id, label: 1 - r.prediction })),
    );
    // Early labels: their predictions come after them.
    const b = rows("b", 100, new Date(from.getTime() + 30 * 60_000), 10 * 60_000);
    const early = await feature.ingest.ingestLabels(
      "sim",
      b.map((r) => ({ id: r.id, label: 1 })),
    );
    expect(early).toEqual({ received: 100, matched: 0, pending: 100 });
    await feature.ingest.ingestPredictions("sim", b);
    await feature.rollups.flush();

    const src = window(from, new Date(from.getTime() + 2 * HOUR));
    const rolled = createRollupWindowRepository(database.db);
    const raw = createRawWindowRepository(database.db);
    const [rs, ws] = [await rolled.summary(src, 0.75), await raw.summary(src, 0.75)];
    expect(rs).toEqual(ws);
    expect(rs).toMatchObject({ rows: 400, labelled: 300 });
    const sort = (xs: { predicted: string; actual: string; count: number }[]) =>
      xs.map((x) => `${x.predicted}/${x.actual}=${x.count}`).sort();
    expect(sort(await rolled.confusion(src, 1))).toEqual(sort(await raw.confusion(src, 1)));
    expect(await createLabelRepository(database.db).health(feature.registry.get("sim").id)).toEqual({
      pending: 0,
      unmatched: 0,
      joinedLate: 100,
    });
  });

  it("labels whose prediction never arrives wait, then are counted as unmatched", async () => {
    const labels = createLabelRepository(database.db);
    const id = feature.registry.get("sim").id;
    await feature.ingest.ingestLabels("sim", [
      { id: "ghost-1", label: 1 },
      { id: "ghost-2", label: 0 },
    ]);
    expect((await labels.health(id)).pending).toBe(2);
    clock.advance(2 * HOUR);
    await feature.rollups.flush();
    expect(await labels.health(id)).toMatchObject({ pending: 0, unmatched: 2 });
  });
});

describe("monitors read rollups only", () => {
  it("every monitor, and a new reference, work with the raw predictions table out of reach", async () => {
    await feature.reference.fromWindow("sim", START, clock.now(), "test");
    await database.db.execute(sql`alter table predictions rename to predictions_out_of_reach`);
    try {
      const runs = await feature.monitoring.runAll("sim", "manual");
      expect(runs.length).toBe(4);
      for (const r of runs) expect(r.status, `${r.monitor}: ${r.note ?? ""}`).not.toBe("error");
      await feature.reference.fromWindow("sim", START, clock.now(), "test");
    } finally {
      await database.db.execute(sql`alter table predictions_out_of_reach rename to predictions`);
    }
  });
});

describe("120 simulated days at the default retention", () => {
  it("raw partitions, minute rollups, runs and claims level off; monitors still work once the reference's raw rows are gone", async () => {
    const refFrom = new Date(START.getTime() + DAY);
    const sizes: Record<number, Record<string, number>> = {};
    for (let day = 1; day <= 120; day++) {
      const dayStart = new Date(START.getTime() + day * DAY);
      clock.set(new Date(dayStart.getTime() + 23 * HOUR));
      // Ten predictions at the start of each hour: every hour and minute rollup of a day exists.
      const batch = rows(`d${day}`, 240, dayStart, 23 * HOUR).map((r, i) => ({
        ...r,
        ts: new Date(dayStart.getTime() + Math.floor(i / 10) * HOUR + (i % 10) * 1000).toISOString(),
      }));
      await feature.ingest.ingestPredictions("sim", batch);
      await feature.ingest.ingestLabels(
        "sim",
        batch.map((r) => ({ id: r.id, label: r.prediction })),
      );
      if (day === 2) await feature.reference.fromWindow("sim", refFrom, clock.now(), "test");
      // Every fifth day: monitor runs accumulate without taking most of the test's time.
      if (day % 5 === 0) await feature.monitoring.runAll("sim", "schedule");
      await feature.rollups.flush();
      await feature.partitions.makeAhead(clock.now(), 3);
      await feature.retain();
      if (day % 10 === 0)
        sizes[day] = {
          predictions: await count("predictions"),
          partitions: (await feature.partitions.list()).length,
          minute: await count("rollups where grain = 'minute'"),
          hour: await count("rollups where grain = 'hour'"),
          runs: await count("monitor_runs"),
          rawBytes: await rawBytes(),
        };
    }
    // Raw rows: 7 days kept (plus today), in at most 7 + 1 + 3 ahead partitions.
    expect(sizes[120]?.predictions).toBe(sizes[60]?.predictions);
    expect(sizes[120]?.predictions).toBeLessThanOrEqual(8 * 240);
    expect(sizes[120]?.partitions).toBeLessThanOrEqual(12);
    expect(sizes[120]?.rawBytes).toBeLessThanOrEqual((sizes[60]?.rawBytes as number) * 1.2);
    expect(sizes[120]?.minute).toBe(sizes[60]?.minute);
    // Monitor runs: 90 days of them, then level.
    expect(sizes[120]?.runs).toBe(sizes[100]?.runs);
    // Hour rollups grow by at most 24 a day until their 400-day retention.
    expect((sizes[120]?.hour as number) - (sizes[110]?.hour as number)).toBeLessThanOrEqual(240);
    // The reference window's raw rows are long gone; the monitors still have their numbers.
    const [old] = resultRows<{ n: number }>(
      await database.db.execute(
        sql`select count(*)::int as n from predictions where ts < ${new Date(refFrom.getTime() + DAY).toISOString()}::timestamptz`,
      ),
    );
    expect(old?.n).toBe(0);
    await feature.reference.fromWindow("sim", refFrom, new Date(refFrom.getTime() + DAY), "test");
    const runs = await feature.monitoring.runAll("sim", "manual");
    for (const r of runs) expect(["ok", "alert"], `${r.monitor}: ${r.note ?? ""}`).toContain(r.status);
  }, 300_000);
});
