/**
 * The performance monitor of a multiclass model whose labels arrive late, on a real database:
 * the reference (labelled) learns the calibration of P(correct | confidence) and the band of the
 * estimated accuracy; unlabelled windows are then estimated from the predicted class's confidence,
 * through raw rows and through rollups alike (parity within 0.002), silent on a null window and
 * alerting on shifted class overlap before any label arrives.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configSchema } from "../../src/config/index.js";
import type { Database } from "../../src/db/index.js";
import type { ReferenceProfile } from "../../src/monitoring/profile.js";
import { createReferenceService } from "../../src/monitoring/reference.js";
import { createMonitoringRepository } from "../../src/monitoring/repository.js";
import { createRollupWindowRepository } from "../../src/monitoring/rollup-window.js";
import { createMonitoringService } from "../../src/monitoring/service.js";
import { fetchModelServiceClient } from "../../src/monitoring/service-client.js";
import { createRawWindowRepository, type WindowRepository } from "../../src/monitoring/window-repository.js";
import { createMonitoringFeature, type MonitoringFeature } from "../../src/wiring/monitoring-feature.js";
import { openTestDatabase, testLogger } from "../helpers/db.js";
import { featureContext, manualClock, recordingSink, seeded } from "../helpers/monitoring.js";
import { sampleMulticlass } from "../helpers/multiclass-sim.js";

const CLASSES = ["cat", "dog", "fox"];
const T0 = new Date("2026-12-01T00:00:00Z");
const DAY = 86_400_000;
const HOUR = 3_600_000;
const clock = manualClock(new Date(T0.getTime() + DAY + 12 * HOUR));
const rand = seeded(7);

const config = configSchema.parse({
  workspace: {
    alert_channel: "#alerts",
    user_groups: { l1: { handle: "ops" }, l2: { handle: "ds" }, t: { handle: "team" } },
  },
  models: [
    {
      slug: "mc",
      name: "Multiclass",
      task: "multiclass_classification",
      owners: "t",
      confidence_threshold: 0.5,
      champion: "v1",
      features: [{ name: "x", type: "numeric" }],
      monitors: { performance: { window: "1h", metric: "accuracy", min_labels: 100 } },
    },
  ],
});

let database: Database;
let feature: MonitoringFeature;

/** Stores `n` simulated predictions over [from, from + span); labels only when `labelled`. */
async function store(prefix: string, n: number, from: Date, span: number, pull: number, labelled: boolean) {
  const s = sampleMulticlass(rand, n, pull);
  const rows = s.probs.map((p, i) => ({
    id: `${prefix}-${i}`,
    ts: new Date(from.getTime() + Math.floor((i * span) / n)).toISOString(),
    model_version: "v1",
    prediction: CLASSES[s.predicted[i] as number] as string,
    confidence: Math.max(...p),
    features: { x: p[0] as number },
  }));
  for (let i = 0; i < rows.length; i += 1000)
    await feature.ingest.ingestPredictions("mc", rows.slice(i, i + 1000));
  if (labelled)
    await feature.ingest.ingestLabels(
      "mc",
      rows.map((r, i) => ({ id: r.id, label: CLASSES[s.labels[i] as number] })),
    );
  await feature.rollups.flush();
  return s.predicted.filter((p, i) => p === s.labels[i]).length / n;
}

function serviceOver(windows: WindowRepository) {
  const runs = createMonitoringRepository(database.db);
  return {
    monitoring: createMonitoringService({
      config,
      registry: feature.registry,
      runs,
      windows,
      clock,
      sink: recordingSink(),
      services: fetchModelServiceClient,
      logger: testLogger,
    }),
    reference: createReferenceService({
      registry: feature.registry,
      windows,
      runs,
      ingest: feature.ingest,
      clock,
    }),
    runs,
  };
}

beforeAll(async () => {
  database = await openTestDatabase();
  feature = createMonitoringFeature(featureContext(database, config, clock), {
    sink: recordingSink(),
    schedule: false,
  });
  await feature.ready();
  await store("ref", 3000, T0, DAY, 0, true);
});
afterAll(async () => {
  await feature.stop?.();
  await database?.close();
});

describe("multiclass CBPE in the performance monitor (labels late)", () => {
  const raw = () => serviceOver(createRawWindowRepository(database.db));
  const rolled = () => serviceOver(createRollupWindowRepository(database.db));

  it("the reference learns P(correct | confidence) and the estimated-accuracy band, alike from rows and rollups", async () => {
    const profiles: ReferenceProfile[] = [];
    for (const s of [rolled(), raw()]) {
      await s.reference.fromWindow("mc", T0, new Date(T0.getTime() + DAY), "test");
      const model = feature.registry.get("mc");
      profiles.push((await s.runs.latestProfile(model.id))?.profile as ReferenceProfile);
    }
    const [fromRollups, fromRows] = profiles as [ReferenceProfile, ReferenceProfile];
    // Over-confident probabilities: isotonic calibration lowers the ECE and is kept.
    expect(fromRows.accuracyCalibration).not.toBeNull();
    expect(fromRows.bands.cbpe_accuracy).toBeTruthy();
    const a = fromRows.bands.cbpe_accuracy;
    const b = fromRollups.bands.cbpe_accuracy;
    expect(Math.abs((a?.mean ?? 0) - (b?.mean ?? 1))).toBeLessThanOrEqual(0.002);
    // The estimate matches the realised reference accuracy it was calibrated on.
    expect(Math.abs((a?.mean ?? 0) - (fromRows.performance?.accuracy ?? 1))).toBeLessThanOrEqual(0.01);
  });

  it("a null window without labels: estimated within 0.03 of the realised accuracy, same from rows and rollups, no alert", async () => {
    const truth = await store("null", 2000, new Date(clock.now().getTime() - HOUR), HOUR - 1000, 0, false);
    const runs = [];
    for (const s of [raw(), rolled()])
      runs.push(await s.monitoring.runMonitor("mc", "performance", "manual"));
    const [fromRows, fromRollups] = runs as [(typeof runs)[number], (typeof runs)[number]];
    expect(fromRows.metrics).toMatchObject({
      mode: "estimated (CBPE)",
      metric: "accuracy",
      calibrated: true,
    });
    expect(fromRows.status).toBe("ok");
    expect(fromRollups.status).toBe("ok");
    const est = fromRows.metrics.value as number;
    expect(Math.abs(est - truth)).toBeLessThanOrEqual(0.03);
    expect(Math.abs(est - (fromRollups.metrics.value as number))).toBeLessThanOrEqual(0.002);
  });

  it("shifted class overlap: the estimate falls below the band and alerts before any label arrives", async () => {
    clock.advance(2 * HOUR);
    const truth = await store("drop", 2000, new Date(clock.now().getTime() - HOUR), HOUR - 1000, 0.35, false);
    for (const s of [raw(), rolled()]) {
      const run = await s.monitoring.runMonitor("mc", "performance", "manual");
      expect(run.status).toBe("alert");
      expect(run.labelledRows).toBe(0);
      expect(run.findings[0]?.title).toMatch(/^Estimated accuracy fell to /);
      expect(run.rule).toMatch(
        /estimated \(CBPE\) accuracy < .* \(learned: reference mean .* − 3σ over 10 chunks\)/,
      );
      expect(Math.abs((run.metrics.value as number) - truth)).toBeLessThanOrEqual(0.03);
    }
  });
});
