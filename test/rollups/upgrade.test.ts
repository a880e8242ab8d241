import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resultRows } from "../../src/db/client.js";
import { type Database, openPglite, openPostgres } from "../../src/db/index.js";
import { createModelRegistry } from "../../src/models/index.js";
import type { MonitorRun } from "../../src/monitoring/model.js";
import { createReferenceService } from "../../src/monitoring/reference.js";
import { createMonitoringRepository } from "../../src/monitoring/repository.js";
import { createMonitoringService } from "../../src/monitoring/service.js";
import { fetchModelServiceClient } from "../../src/monitoring/service-client.js";
import { createRawWindowRepository } from "../../src/monitoring/window-repository.js";
import { createMonitoringFeature, type MonitoringFeature } from "../../src/wiring/monitoring-feature.js";
import { createEmptyPostgresDatabase, migrationsUpTo, TEST_DATABASE_URL, testLogger } from "../helpers/db.js";
import {
  featureContext,
  manualClock,
  normal,
  recordingSink,
  seeded,
  simConfig,
} from "../helpers/monitoring.js";

const HOUR = 3_600_000;
const NOW = new Date("2026-11-28T12:00:00Z");
const config = simConfig(
  {
    drift: { window: "6h" },
    data_quality: { window: "6h" },
    confidence: { window: "6h" },
    performance: { window: "6h", min_labels: 50 },
  },
  { features: 4, categorical: ["c"] },
);
const clock = manualClock(NOW);
let database: Database;
let drop: (() => Promise<void>) | undefined;
let feature: MonitoringFeature | undefined;

async function count(q: string): Promise<number> {
  const [r] = resultRows<{ n: number }>(await database.db.execute(sql.raw(q)));
  return Number(r?.n ?? 0);
}

/** Monitor results as they can be compared across data paths. */
function comparable(runs: MonitorRun[]) {
  return runs.map((r) => ({
    monitor: r.monitor,
    status: r.status,
    rows: r.rows,
    labelledRows: r.labelledRows ?? null,
    subjects: r.findings.map((f) => f.subject).sort(),
  }));
}

let before: MonitorRun[] = [];
let stored = 0;

beforeAll(async () => {
  if (TEST_DATABASE_URL) {
    const created = await createEmptyPostgresDatabase();
    database = openPostgres(created.url, testLogger, { max: 4 });
    drop = created.drop;
  } else database = await openPglite(null, testLogger);
  await database.migrate(migrationsUpTo("0007_runbook_run_pid"));
  // Rows stored by the previous release: its registry gave the slots, its ingest wrote the rows.
  const registry = createModelRegistry(database.db, clock);
  await registry.sync(config);
  const model = registry.get("sim");
  const rand = seeded(99);
  const rows = Array.from({ length: 3000 }, (_, i) => {
    const recent = i >= 2000;
    return {
      i: `old-${i}`,
      t: new Date(
        NOW.getTime() - (recent ? 6 * HOUR : 30 * HOUR) + ((i % 1000) * 6 * HOUR) / 1000,
      ).toISOString(),
      v: "v1",
      p: String(rand() < 0.3 ? 1 : 0),
      c: Math.round((0.5 + rand() / 2) * 1e4) / 1e4,
      n: [normal(rand) + (recent ? 1 : 0), normal(rand), rand() * 10, Math.floor(rand() * 4)],
      k: [["x", "y", "z"][Math.floor(rand() * 3)]],
      l: String(rand() < 0.3 ? 1 : 0),
    };
  });
  await database.db.execute(sql`
    insert into predictions (model_id, request_id, ts, model_version, prediction, confidence, num, cat, label, labelled_at)
    select ${model.id}, r.i, r.t, r.v, r.p, r.c, r.n, r.k, r.l, r.t
    from json_to_recordset(${JSON.stringify(rows)}::json) as r(i text, t timestamptz, v text, p text, c float8, n float8[], k text[], l text)`);
  stored = rows.length;
  // What the previous release's monitors said: the raw-row reductions.
  const windows = createRawWindowRepository(database.db);
  const runs = createMonitoringRepository(database.db);
  const reference = createReferenceService({ registry, windows, runs, ingest: {} as never, clock });
  await reference.fromWindow(
    "sim",
    new Date(NOW.getTime() - 30 * HOUR),
    new Date(NOW.getTime() - 24 * HOUR),
    "test",
  );
  const monitoring = createMonitoringService({
    config,
    registry,
    runs,
    windows,
    clock,
    sink: recordingSink(),
    services: fetchModelServiceClient,
    logger: testLogger,
  });
  before = await monitoring.runAll("sim", "manual");
}, 120_000);

afterAll(async () => {
  await feature?.stop?.();
  await database.close();
  await drop?.();
});

describe("upgrading a database with predictions to rollups and partitions", () => {
  it("keeps every row, backfills the rollups at start, and every monitor says what it said before", async () => {
    await database.migrate();
    expect(await count("select count(*)::int as n from predictions")).toBe(stored);
    expect(await count("select count(*)::int as n from predictions where label is not null")).toBe(stored);
    expect(
      await count("select count(*)::int as n from pg_partition_tree('predictions') where isleaf"),
    ).toBeGreaterThanOrEqual(2);
    feature = createMonitoringFeature(featureContext(database, config, clock), {
      sink: recordingSink(),
      schedule: false,
    });
    await feature.start?.({} as never);
    expect(
      await count(
        "select count(*)::int as n from maintenance_state where key = 'rollup_backfill' and value = 'done'",
      ),
    ).toBe(1);
    await feature.rollups.flush();
    const after = await feature.monitoring.runAll("sim", "manual");
    // Drift values agree within the rollup tolerance (0.02); a column whose raw value lies within
    // that of its threshold may be decided either way, so it is left out of the comparison.
    type Cols = Record<string, { value: number; threshold: number; drifted: boolean }>;
    const rawCols = before.find((r) => r.monitor === "drift")?.metrics.columns as Cols;
    const newCols = after.find((r) => r.monitor === "drift")?.metrics.columns as Cols;
    const borderline = new Set<string>();
    for (const [name, c] of Object.entries(rawCols)) {
      expect(Math.abs((newCols[name]?.value as number) - c.value), name).toBeLessThanOrEqual(0.02);
      if (Math.abs(c.value - c.threshold) <= 0.02) borderline.add(name);
    }
    const decided = (runs: MonitorRun[]) =>
      comparable(runs).map((r) =>
        r.monitor === "drift"
          ? { ...r, status: "", subjects: r.subjects.filter((s) => !borderline.has(s)) }
          : r,
      );
    expect(decided(after)).toEqual(decided(before));
    expect(after.find((r) => r.monitor === "drift")?.findings.map((f) => f.subject)).toContain("f0");
    // A second start does not backfill again.
    const rollupRows = await count("select sum(rows)::int as n from rollups where grain = 'hour'");
    expect(rollupRows).toBe(stored);
    await feature.stop?.();
    feature = createMonitoringFeature(featureContext(database, config, clock), {
      sink: recordingSink(),
      schedule: false,
    });
    await feature.start?.({} as never);
    await feature.rollups.flush();
    expect(await count("select sum(rows)::int as n from rollups where grain = 'hour'")).toBe(stored);
  });
});
