/**
 * The performance monitor of a multiclass model whose labels arrive late, on a real database:
 * the reference (labelled) learns the calibration of P(correct | confidence) and the band of the
 * estimated accuracy; unlabelled windows are then estimated from the predicted class's confidence,
 * through raw rows and through rollups alike (parity within 0.002), silent on a null window and
 * alerting on shifted class overlap before any label arrives. Then a model whose rows carry
 * their class probabilities, through the wired monitoring feature (rollups in Postgres): the
 * reference learns per-class calibrations and the `cbpe_macro_f1` band, a drop in estimated macro
 * F1 is alerted before any label arrives, and once the labels are in, the realised macro F1 is.
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
import { multiclassRealised } from "../../src/monitoring/stats/index.js";
import { createRawWindowRepository, type WindowRepository } from "../../src/monitoring/window-repository.js";
import { runNumbers } from "../../src/slack/monitoring/blocks.js";
import { createMonitoringFeature, type MonitoringFeature } from "../../src/wiring/monitoring-feature.js";
import { openTestDatabase, testLogger } from "../helpers/db.js";
import { featureContext, manualClock, recordingSink, seeded } from "../helpers/monitoring.js";
import { sampleMulticlass, sendable } from "../helpers/multiclass-sim.js";

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
    {
      slug: "mcp",
      name: "Multiclass with probabilities",
      task: "multiclass_classification",
      owners: "t",
      confidence_threshold: 0.5,
      champion: "v1",
      features: [{ name: "x", type: "numeric" }],
      monitors: { performance: { window: "1h", metric: "f1", min_labels: 100 } },
    },
  ],
});

let database: Database;
let feature: MonitoringFeature;
const sink = recordingSink();

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
    sink,
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

describe("multiclass CBPE from class probabilities, wired (rollups in Postgres, labels late)", () => {
  /** Stores `n` predictions of "mcp" with their probabilities; returns their realised macro F1 and labels. */
  async function storeWithProbabilities(prefix: string, n: number, from: Date, span: number, pull: number) {
    const s = sendable(sampleMulticlass(rand, n, pull));
    const rows = s.probs.map((p, i) => ({
      id: `${prefix}-${i}`,
      ts: new Date(from.getTime() + Math.floor((i * span) / n)).toISOString(),
      model_version: "v1",
      prediction: CLASSES[s.predicted[i] as number] as string,
      confidence: Math.max(...p),
      features: { x: p[0] as number },
      probabilities: Object.fromEntries(CLASSES.map((c, k) => [c, p[k] as number])),
    }));
    for (let i = 0; i < rows.length; i += 1000)
      await feature.ingest.ingestPredictions("mcp", rows.slice(i, i + 1000));
    await feature.rollups.flush();
    const labels = rows.map((r, i) => ({ id: r.id, label: CLASSES[s.labels[i] as number] as string }));
    return { truth: multiclassRealised(s.predicted, s.labels, CLASSES.length).macroF1, labels, rows };
  }
  const modelId = () => feature.registry.get("mcp").id;

  it("the reference fits one calibration per class and learns the cbpe_macro_f1 band from its cells", async () => {
    const ref = await storeWithProbabilities("pref", 3000, T0, DAY, 0);
    await feature.ingest.ingestLabels("mcp", ref.labels);
    await feature.rollups.flush();
    // The same rows as a labelled upload (raw rows of reference_samples), then as a window (rollups).
    const runs = createMonitoringRepository(database.db);
    await feature.reference.fromUpload(
      "mcp",
      ref.rows.map((r, i) => ({ ...r, id: `up-${i}`, label: ref.labels[i]?.label })),
      "test",
    );
    const uploaded = (await runs.latestProfile(modelId()))?.profile;
    await feature.reference.fromWindow("mcp", T0, new Date(T0.getTime() + DAY), "test");
    const profile = (await runs.latestProfile(modelId()))?.profile;
    expect(uploaded?.classCalibration?.classes).toEqual(CLASSES);
    expect(
      Math.abs((uploaded?.bands.cbpe_macro_f1?.mean ?? 0) - (profile?.bands.cbpe_macro_f1?.mean ?? 1)),
    ).toBeLessThanOrEqual(0.002);
    expect(profile?.classCalibration?.classes).toEqual(CLASSES);
    // Over-confident probabilities: isotonic calibration lowers each class's ECE and is kept.
    expect(profile?.classCalibration?.calibrations.every((c) => c !== null)).toBe(true);
    const band = profile?.bands.cbpe_macro_f1;
    expect(profile?.chunkValues.cbpe_macro_f1).toHaveLength(10);
    // The estimate over the reference's chunks centres on the realised macro F1 it was calibrated on.
    expect(Math.abs((band?.mean ?? 0) - (profile?.performance?.f1 ?? 1))).toBeLessThanOrEqual(0.01);
    expect(Math.abs((band?.mean ?? 0) - ref.truth)).toBeLessThanOrEqual(0.01);
  });

  it("a null window without labels is silent; a drop in estimated macro F1 alerts before its labels arrive, naming metric, estimate and band", async () => {
    clock.advance(2 * HOUR);
    const nul = await storeWithProbabilities(
      "pnull",
      2000,
      new Date(clock.now().getTime() - HOUR),
      HOUR - 1000,
      0,
    );
    const quiet = await feature.monitoring.runMonitor("mcp", "performance", "manual");
    expect(quiet.status).toBe("ok");
    expect(quiet.metrics).toMatchObject({
      mode: "estimated (CBPE)",
      metric: "f1",
      rows_with_probabilities: 2000,
    });
    expect(Math.abs((quiet.metrics.value as number) - nul.truth)).toBeLessThanOrEqual(0.03);

    clock.advance(2 * HOUR);
    const before = sink.signals.length;
    const drop = await storeWithProbabilities(
      "pdrop",
      2000,
      new Date(clock.now().getTime() - HOUR),
      HOUR - 1000,
      0.35,
    );
    const run = await feature.monitoring.runMonitor("mcp", "performance", "manual");
    expect(run.status).toBe("alert");
    expect(run.labelledRows).toBe(0);
    expect(run.metrics.band).toBe("cbpe_macro_f1");
    expect(Math.abs((run.metrics.value as number) - drop.truth)).toBeLessThanOrEqual(0.03);
    const finding = run.findings[0];
    expect(finding?.title).toMatch(/^Estimated macro F1 fell to 0\.\d+ \(reference 0\.\d+\)$/);
    expect(finding?.rule).toMatch(
      /^estimated \(CBPE\) macro F1 < 0\.\d+ \(learned: reference mean 0\.\d+ − 3σ over 10 chunks\)$/,
    );
    expect(finding?.metrics).toMatchObject({ value: run.metrics.value, lower: run.metrics.lower });
    expect(finding?.metrics.upper).toBeGreaterThan(finding?.metrics.lower as number);
    // `/mlops check` shows the judged metric with its band, and both estimates.
    expect(runNumbers(run)).toMatch(
      /^estimated \(CBPE\) macro F1 0\.\d+ \(band ≥ 0\.\d+; accuracy 0\.\d+, macro F1 0\.\d+\)$/,
    );
    // The wired feature emitted it to its alert sink, its chart drawing the cbpe_macro_f1 band.
    expect(sink.signals.length).toBeGreaterThan(before);
    const profile = (await createMonitoringRepository(database.db).latestProfile(modelId()))?.profile;
    const chart = sink.signals.at(-1)?.charts?.[0];
    expect(chart?.band?.lower).toBe(profile?.bands.cbpe_macro_f1?.lower);

    // The labels arrive: realised macro F1 now, below its band too.
    await feature.ingest.ingestLabels("mcp", drop.labels);
    await feature.rollups.flush();
    const realised = await feature.monitoring.runMonitor("mcp", "performance", "manual");
    expect(realised.metrics.mode).toBe("realised");
    expect(realised.labelledRows).toBe(2000);
    expect(realised.metrics.f1).toBeCloseTo(drop.truth, 3);
    expect(realised.status).toBe("alert");
    expect(realised.findings[0]?.title).toMatch(/^macro F1 fell to /);
  });
});
