/**
 * Regression metrics from rollups against raw rows, with NumPy as the referee: the fixture's rows
 * (test/rollups/fixtures/regression.py) are stored, labelled late (after their predictions) or
 * early (before them), and MAE, RMSE, MAPE and R² are computed from the rollups' moments and from
 * the raw rows.
 *
 * Tolerances: labelled-row counts exact; every metric within 1e-9 relative of NumPy, from rollups
 * and from raw rows alike (sums of the same doubles in another order); the residual's mean exact
 * to 1e-9 and std to 1e-6 relative, as for any numeric column.
 */
import { readFileSync } from "node:fs";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resultRows } from "../../src/db/client.js";
import type { Database } from "../../src/db/index.js";
import { createReferenceService } from "../../src/monitoring/reference.js";
import { createMonitoringRepository } from "../../src/monitoring/repository.js";
import { createRollupWindowRepository } from "../../src/monitoring/rollup-window.js";
import { createMonitoringService } from "../../src/monitoring/service.js";
import { fetchModelServiceClient } from "../../src/monitoring/service-client.js";
import { type RegressionMoments, regressionMetrics } from "../../src/monitoring/stats/index.js";
import { createRawWindowRepository, type WindowRepository } from "../../src/monitoring/window-repository.js";
import type { RollupData } from "../../src/rollups/model.js";
import { createMonitoringFeature, type MonitoringFeature } from "../../src/wiring/monitoring-feature.js";
import { openTestDatabase, testLogger } from "../helpers/db.js";
import { featureContext, manualClock, recordingSink } from "../helpers/monitoring.js";
import {
  type RegressionSample,
  regressionConfig,
  regressionLabels,
  regressionPredictions,
} from "../helpers/regression.js";

type Expected = Record<"n" | "mae" | "rmse" | "mape" | "r2" | "residual_mean" | "residual_std", number>;
const fixture = JSON.parse(readFileSync(new URL("./fixtures/regression.json", import.meta.url), "utf8")) as {
  reference: RegressionSample;
  current: RegressionSample;
  expected: { reference: Expected; current: Expected };
};
const REF_FROM = new Date("2026-11-30T00:00:00Z");
const REF_TO = new Date("2026-12-01T00:00:00Z");
const CUR_FROM = new Date("2026-12-01T11:00:00Z");
const NOW = new Date("2026-12-01T12:00:00Z");
const config = regressionConfig({
  drift: { window: "1h" },
  performance: { window: "1h", metric: "rmse", min_labels: 100 },
});

let database: Database;
let feature: MonitoringFeature;
const clock = manualClock(NOW);
const ref = { kind: "window" as const, from: REF_FROM, to: REF_TO, modelId: 0 };
const cur = { kind: "window" as const, from: CUR_FROM, to: new Date(NOW.getTime() + 1), modelId: 0 };

/** Within 1e-9 relative of NumPy. */
function closeTo(got: number | null, want: number) {
  expect(got).not.toBeNull();
  expect(Math.abs((got as number) - want)).toBeLessThanOrEqual(1e-9 * Math.abs(want));
}

function expectMetrics(m: RegressionMoments | undefined, want: Expected) {
  expect(m?.n).toBe(want.n);
  const got = regressionMetrics(m as RegressionMoments);
  for (const k of ["mae", "rmse", "mape", "r2"] as const) closeTo(got[k], want[k]);
}

function serviceOver(windows: WindowRepository) {
  const runs = createMonitoringRepository(database.db);
  const deps = { registry: feature.registry, windows, runs, clock };
  return {
    monitoring: createMonitoringService({
      ...deps,
      config,
      sink: recordingSink(),
      services: fetchModelServiceClient,
      logger: testLogger,
    }),
    reference: createReferenceService({ ...deps, ingest: feature.ingest }),
  };
}

beforeAll(async () => {
  database = await openTestDatabase();
  feature = createMonitoringFeature(featureContext(database, config, clock), {
    sink: recordingSink(),
    schedule: false,
  });
  await feature.ready();
  ref.modelId = cur.modelId = feature.registry.get("reg").id;
  // The reference is labelled late (a label delta per bucket) ...
  const span = REF_TO.getTime() - REF_FROM.getTime();
  const refRows = regressionPredictions(fixture.reference, "ref", REF_FROM, span);
  for (let i = 0; i < refRows.length; i += 1000)
    await feature.ingest.ingestPredictions("reg", refRows.slice(i, i + 1000));
  await feature.ingest.ingestLabels("reg", regressionLabels(fixture.reference, "ref"));
  // ... the current window early: its labels wait for their predictions and join them on ingest.
  expect(await feature.ingest.ingestLabels("reg", regressionLabels(fixture.current, "cur"))).toMatchObject({
    matched: 0,
    pending: fixture.current.label.length,
  });
  const curRows = regressionPredictions(fixture.current, "cur", CUR_FROM, NOW.getTime() - CUR_FROM.getTime());
  await feature.ingest.ingestPredictions("reg", curRows);
  await feature.rollups.flush();
});

afterAll(async () => {
  await feature.stop?.();
  await database.close();
});

describe("regression metrics from rollups match raw rows, with NumPy as the referee", () => {
  it("MAE, RMSE, MAPE (y ≠ 0) and R² from rollup moments and from raw rows are within 1e-9 of NumPy", async () => {
    const rolled = createRollupWindowRepository(database.db);
    const raw = createRawWindowRepository(database.db);
    for (const [src, want] of [
      [ref, fixture.expected.reference],
      [cur, fixture.expected.current],
    ] as const) {
      expectMetrics((await rolled.regression(src, 1))[0], want);
      expectMetrics((await raw.regression(src, 1))[0], want);
      const summary = await rolled.summary(src, 0.5);
      expect(summary.labelled).toBe(want.n);
    }
  });

  it("a rollup holds moments, not a label cell per distinct value", async () => {
    const docs = resultRows<{ data: string }>(
      await database.db.execute(
        sql`select data::text as data from rollups where grain = 'hour' and model_id = ${ref.modelId}`,
      ),
    );
    const labelled = docs.map((d) => JSON.parse(d.data) as RollupData);
    expect(labelled.length).toBeGreaterThan(0);
    for (const doc of labelled) expect(Object.keys(doc.labels)).toEqual([]);
    expect(labelled.reduce((s, d) => s + (d.regression?.n ?? 0), 0)).toBe(
      fixture.expected.reference.n + fixture.expected.current.n,
    );
  });

  it("the residual column describes the same from rollups as from raw rows", async () => {
    const col = [{ key: 1, ref: { kind: "residual" as const } }];
    const a = (await createRollupWindowRepository(database.db).describe(ref, col, [0.5])).get(1);
    const b = (await createRawWindowRepository(database.db).describe(ref, col, [0.5])).get(1);
    expect(a?.n).toBe(b?.n);
    expect(a?.min).toBe(b?.min);
    expect(a?.max).toBe(b?.max);
    closeTo(a?.mean ?? null, fixture.expected.reference.residual_mean);
    closeTo(b?.mean ?? null, fixture.expected.reference.residual_mean);
    expect(Math.abs((a?.std as number) / fixture.expected.reference.residual_std - 1)).toBeLessThan(1e-6);
    expect(Math.abs((a?.quantiles[0] as number) - (b?.quantiles[0] as number))).toBeLessThan(0.02 * 2);
  });

  it("a relabel moves the residual: rollups and raw rows agree after it and after its undo", async () => {
    const rolled = createRollupWindowRepository(database.db);
    const raw = createRawWindowRepository(database.db);
    const y0 = fixture.current.label[0] as number;
    await feature.ingest.ingestLabels("reg", [{ id: "cur-0", label: y0 + 100 }]);
    await feature.rollups.flush();
    const [a] = await rolled.regression(cur, 1);
    const [b] = await raw.regression(cur, 1);
    expect(a?.n).toBe(fixture.expected.current.n);
    for (const k of ["mae", "rmse", "mape", "r2"] as const)
      expect(regressionMetrics(a as RegressionMoments)[k]).toBeCloseTo(
        regressionMetrics(b as RegressionMoments)[k] as number,
        9,
      );
    expect(regressionMetrics(a as RegressionMoments).mae).toBeGreaterThan(fixture.expected.current.mae);
    await feature.ingest.ingestLabels("reg", [{ id: "cur-0", label: y0 }]);
    await feature.rollups.flush();
    expectMetrics((await rolled.regression(cur, 1))[0], fixture.expected.current);
  });

  it("the reference keeps the metrics whole and per chunk; both paths flag RMSE and the residual's drift", async () => {
    for (const windows of [
      createRollupWindowRepository(database.db),
      createRawWindowRepository(database.db),
    ]) {
      const { monitoring, reference } = serviceOver(windows);
      await reference.fromWindow("reg", REF_FROM, REF_TO, "test");
      const stored = await createMonitoringRepository(database.db).latestProfile(ref.modelId);
      const profile = stored?.profile;
      for (const k of ["mae", "rmse", "mape", "r2"] as const) {
        closeTo(profile?.performance?.[k] ?? null, fixture.expected.reference[k]);
        expect(profile?.chunkValues[k]).toHaveLength(10);
        expect(profile?.bands[k]).not.toBeNull();
      }
      expect(profile?.residual?.kind).toBe("numeric");
      const perf = await monitoring.runMonitor("reg", "performance", "manual");
      expect(perf.status).toBe("alert");
      expect(perf.labelledRows).toBe(fixture.expected.current.n);
      expect(perf.metrics.rmse).toBeCloseTo(fixture.expected.current.rmse, 4);
      expect(perf.findings[0]?.subject).toBe("rmse");
      expect(perf.findings[0]?.rule).toMatch(
        /^realised rmse > [\d.]+ \(learned: reference mean [\d.]+ \+ 3σ over 10 chunks\)$/,
      );
      const drift = await monitoring.runMonitor("reg", "drift", "manual");
      expect(drift.findings.map((f) => f.subject)).toContain("(residual)");
      expect(drift.findings.map((f) => f.subject)).not.toContain("x");
    }
  });
});
