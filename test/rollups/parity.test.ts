/**
 * Rollups against raw rows, with SciPy as the referee: the same rows are stored once, then every
 * statistic the monitors use is computed from the rollups and compared with what SciPy computed
 * from the rows (test/rollups/fixtures/generate.py) and with the raw-row reductions.
 *
 * Tolerances (stated in src/monitoring/rollup-window.ts):
 * - counts, min, max, mean: exact (mean to 1e-9 relative); std to 1e-6 relative;
 * - quantiles: exact for columns with ≤ 32 distinct values, else within 1% of the value or
 *   range / 256, whichever is larger;
 * - Wasserstein (normed) and KS-based drift values: within 0.02 of the raw-row computation, and
 *   the raw and rollup paths flag the same columns;
 * - low-confidence share, accuracy, F1: exact; ROC AUC within 0.002 of SciPy;
 * - multiclass class cells (per class, 0.001 bin of p_k, predicted or not): rows, labelled and
 *   truly-k counts exact, Σp_k within 1e-9 relative, against the same cells reduced in memory
 *   from the rows (multiclassCells); the estimates from them equal to 1e-9.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configSchema } from "../../src/config/index.js";
import type { Database } from "../../src/db/index.js";
import { createReferenceService } from "../../src/monitoring/reference.js";
import { createMonitoringRepository } from "../../src/monitoring/repository.js";
import { createRollupWindowRepository } from "../../src/monitoring/rollup-window.js";
import { createMonitoringService } from "../../src/monitoring/service.js";
import { fetchModelServiceClient } from "../../src/monitoring/service-client.js";
import { estimateFromClassCells, multiclassCells } from "../../src/monitoring/stats/index.js";
import { createRawWindowRepository, type WindowRepository } from "../../src/monitoring/window-repository.js";
import { createMonitoringFeature, type MonitoringFeature } from "../../src/wiring/monitoring-feature.js";
import { openTestDatabase, testLogger } from "../helpers/db.js";
import { featureContext, manualClock, recordingSink, seeded } from "../helpers/monitoring.js";
import { sampleMulticlass, sendable } from "../helpers/multiclass-sim.js";

interface Sample {
  numeric: Record<string, number[]>;
  country: string[];
  prediction: number[];
  confidence: number[];
  label: number[];
  n: number;
}
const fixture = JSON.parse(readFileSync(new URL("./fixtures/parity.json", import.meta.url), "utf8")) as {
  probs: number[];
  reference: Sample;
  current: Sample;
  expected: {
    numeric: Record<
      string,
      {
        quantiles: number[];
        min: number;
        max: number;
        mean: number;
        std: number;
        ks: number;
        wasserstein_normed: number;
      }
    >;
    low_confidence_share: number;
    accuracy: number;
    f1: number;
    roc_auc: number;
  };
};
const NUMERIC = Object.keys(fixture.reference.numeric);
const EXACT = new Set(["f_flag", "f_count"]);
const REF_FROM = new Date("2026-11-30T00:00:00Z");
const REF_TO = new Date("2026-12-01T00:00:00Z");
const CUR_FROM = new Date("2026-12-01T11:00:00Z");
const NOW = new Date("2026-12-01T12:00:00Z");

const config = configSchema.parse({
  workspace: {
    alert_channel: "#alerts",
    user_groups: { l1: { handle: "ops" }, l2: { handle: "ds" }, t: { handle: "team" } },
  },
  models: [
    {
      slug: "par",
      name: "Parity",
      task: "binary_classification",
      owners: "t",
      confidence_threshold: 0.75,
      champion: "v1",
      features: [
        ...NUMERIC.map((name) => ({ name, type: "numeric" })),
        { name: "country", type: "categorical" },
      ],
      monitors: {
        drift: { window: "1h", method: "wasserstein", threshold: 0.1 },
        data_quality: { window: "1h" },
        confidence: { window: "1h", max_low_share: 0.5 },
        performance: { window: "1h", metric: "f1", min_labels: 100 },
        multivariate: { window: "1h" },
      },
    },
    {
      slug: "mcp",
      name: "Multiclass parity",
      task: "multiclass_classification",
      owners: "t",
      champion: "v1",
      features: [{ name: "x", type: "numeric" }],
      monitors: { performance: { window: "1h", metric: "f1", min_labels: 100 } },
    },
  ],
});

let database: Database;
let feature: MonitoringFeature;
const clock = manualClock(NOW);

function rowsOf(s: Sample, prefix: string, from: Date, span: number) {
  return Array.from({ length: s.n }, (_, i) => ({
    id: `${prefix}-${i}`,
    ts: new Date(from.getTime() + Math.floor((i * span) / s.n)).toISOString(),
    model_version: "v1",
    prediction: s.prediction[i] as number,
    confidence: s.confidence[i] as number,
    features: {
      ...Object.fromEntries(NUMERIC.map((k) => [k, s.numeric[k]?.[i] as number])),
      country: s.country[i] as string,
    },
  }));
}

async function store(s: Sample, prefix: string, from: Date, span: number) {
  const rows = rowsOf(s, prefix, from, span);
  for (let i = 0; i < rows.length; i += 1000)
    await feature.ingest.ingestPredictions("par", rows.slice(i, i + 1000));
  await feature.ingest.ingestLabels(
    "par",
    rows.map((r, i) => ({ id: r.id, label: s.label[i] as number })),
  );
}

/** A monitoring service over the given reductions, with its own reference service. */
function serviceOver(windows: WindowRepository) {
  const runs = createMonitoringRepository(database.db);
  const monitoring = createMonitoringService({
    config,
    registry: feature.registry,
    runs,
    windows,
    clock,
    sink: recordingSink(),
    services: fetchModelServiceClient,
    logger: testLogger,
  });
  const reference = createReferenceService({
    registry: feature.registry,
    windows,
    runs,
    ingest: feature.ingest,
    clock,
  });
  return { monitoring, reference };
}

beforeAll(async () => {
  database = await openTestDatabase();
  feature = createMonitoringFeature(featureContext(database, config, clock), {
    sink: recordingSink(),
    schedule: false,
  });
  await feature.ready();
  await store(fixture.reference, "ref", REF_FROM, REF_TO.getTime() - REF_FROM.getTime());
  await store(fixture.current, "cur", CUR_FROM, NOW.getTime() - CUR_FROM.getTime());
  await feature.rollups.flush();
});

afterAll(async () => {
  await feature.stop?.();
  await database.close();
});

describe("rollups match raw rows, with SciPy as the referee", () => {
  it("describes each numeric column: extremes and mean exact, quantiles within the stated bound", async () => {
    const windows = createRollupWindowRepository(database.db);
    const model = feature.registry.get("par");
    const cols = NUMERIC.map((name, key) => ({
      key,
      ref: { kind: "num" as const, slot: model.features.find((f) => f.name === name)?.slot as number, name },
    }));
    const described = await windows.describe(
      { kind: "window", modelId: model.id, from: REF_FROM, to: REF_TO },
      cols,
      fixture.probs,
    );
    for (const c of cols) {
      const got = described.get(c.key);
      const want = fixture.expected.numeric[c.ref.name];
      if (!got || !want) throw new Error(`no result for ${c.ref.name}`);
      expect(got.n).toBe(fixture.reference.n);
      expect(got.min).toBe(want.min);
      expect(got.max).toBe(want.max);
      expect(Math.abs((got.mean as number) - want.mean)).toBeLessThanOrEqual(
        1e-9 * Math.max(1, Math.abs(want.mean)),
      );
      expect(Math.abs((got.std as number) - want.std)).toBeLessThanOrEqual(1e-6 * Math.max(1, want.std));
      const range = want.max - want.min;
      want.quantiles.forEach((q, i) => {
        const bound = EXACT.has(c.ref.name) ? 1e-9 : Math.max(0.01 * Math.abs(q), range / 256);
        expect(
          Math.abs((got.quantiles[i] as number) - q),
          `${c.ref.name} q${fixture.probs[i]}`,
        ).toBeLessThanOrEqual(bound);
      });
    }
  });

  it("drift from rollups flags the same columns as drift from raw rows, with values within 0.02", async () => {
    const fromRollups = serviceOver(createRollupWindowRepository(database.db));
    const fromRaw = serviceOver(createRawWindowRepository(database.db));
    await fromRaw.reference.fromWindow("par", REF_FROM, REF_TO, "test");
    const raw = await fromRaw.monitoring.runMonitor("par", "drift", "manual");
    await fromRollups.reference.fromWindow("par", REF_FROM, REF_TO, "test");
    const rolled = await fromRollups.monitoring.runMonitor("par", "drift", "manual");
    expect(rolled.status).toBe(raw.status);
    expect(rolled.rows).toBe(fixture.current.n);
    const rawCols = raw.metrics.columns as Record<string, { value: number; drifted: boolean }>;
    const rollCols = rolled.metrics.columns as Record<string, { value: number; drifted: boolean }>;
    for (const name of [...NUMERIC, "country", "prediction"]) {
      expect(rollCols[name]?.drifted, name).toBe(rawCols[name]?.drifted);
      expect(
        Math.abs((rollCols[name]?.value as number) - (rawCols[name]?.value as number)),
        name,
      ).toBeLessThanOrEqual(0.02);
    }
    // Against SciPy: the normed Wasserstein distance of the rows themselves.
    for (const name of ["f_norm", "f_lat", "f_amount"]) {
      const want = fixture.expected.numeric[name]?.wasserstein_normed as number;
      expect(Math.abs((rollCols[name]?.value as number) - want), name).toBeLessThanOrEqual(
        0.05 * Math.max(1, want),
      );
    }
    expect(rollCols.f_norm?.drifted).toBe(true);
    expect(rollCols.f_lat?.drifted).toBe(true);
  });

  it("confidence share, realised accuracy and F1 are exact; ROC AUC within 0.002 of SciPy", async () => {
    const { monitoring, reference } = serviceOver(createRollupWindowRepository(database.db));
    await reference.fromWindow("par", REF_FROM, REF_TO, "test");
    const conf = await monitoring.runMonitor("par", "confidence", "manual");
    expect(conf.metrics.low_share).toBeCloseTo(fixture.expected.low_confidence_share, 6);
    const perf = await monitoring.runMonitor("par", "performance", "manual");
    expect(perf.metrics.mode).toBe("realised");
    expect(perf.labelledRows).toBe(fixture.current.n);
    expect(perf.metrics.accuracy).toBeCloseTo(fixture.expected.accuracy, 6);
    expect(perf.metrics.f1).toBeCloseTo(fixture.expected.f1, 6);
    expect(Math.abs((perf.metrics.roc_auc as number) - fixture.expected.roc_auc)).toBeLessThanOrEqual(0.002);
  });

  it("data quality from rollups reports what raw rows report", async () => {
    const a = serviceOver(createRollupWindowRepository(database.db));
    const b = serviceOver(createRawWindowRepository(database.db));
    await a.reference.fromWindow("par", REF_FROM, REF_TO, "test");
    const rolled = await a.monitoring.runMonitor("par", "data_quality", "manual");
    await b.reference.fromWindow("par", REF_FROM, REF_TO, "test");
    const raw = await b.monitoring.runMonitor("par", "data_quality", "manual");
    expect(rolled.findings.map((f) => f.subject).sort()).toEqual(raw.findings.map((f) => f.subject).sort());
    expect(rolled.metrics.features).toEqual(raw.metrics.features);
  });

  // Last: it stores more rows in the current window. Scores are written at ingest into registered
  // `num` slots, so both paths read the same stored values; only the rollup's moments can differ.
  it("the multivariate monitor from rollups reads the same scores as from raw rows", async () => {
    await feature.reference.fromWindow("par", REF_FROM, REF_TO, "test");
    // Shuffled current rows: each feature's marginal kept, their joint distribution broken.
    const shuffled = {
      ...fixture.current,
      numeric: Object.fromEntries(
        Object.entries(fixture.current.numeric).map(([k, xs], j) => [
          k,
          xs.map((_, i) => xs[(i * (2 * j + 3)) % xs.length] as number),
        ]),
      ),
    };
    await store(shuffled, "mv", CUR_FROM, NOW.getTime() - CUR_FROM.getTime());
    await feature.rollups.flush();
    const rolled = await serviceOver(createRollupWindowRepository(database.db)).monitoring.runMonitor(
      "par",
      "multivariate",
      "manual",
    );
    const raw = await serviceOver(createRawWindowRepository(database.db)).monitoring.runMonitor(
      "par",
      "multivariate",
      "manual",
    );
    // Rows stored before the baseline carry no score.
    expect(raw.metrics.scored_rows).toBe(fixture.current.n);
    expect(rolled.metrics.scored_rows).toBe(raw.metrics.scored_rows);
    expect(rolled.metrics.reconstruction_error).toBeCloseTo(raw.metrics.reconstruction_error as number, 9);
    expect(rolled.status).toBe(raw.status);
    // Sums added in another order: the same finding, values equal to ~1e-12.
    expect(rolled.findings.map((f) => f.title)).toEqual(raw.findings.map((f) => f.title));
    expect(raw.findings.map((f) => f.title)).toEqual([
      expect.stringMatching(/^PCA reconstruction error rose to [\d.]+ \(reference [\d.]+\); it grew in f_/),
    ]);
    expect(rolled.findings[0]?.metrics.value).toBeCloseTo(raw.findings[0]?.metrics.value as number, 9);
    // Derived slots are not features: drift and data quality list the configured features only.
    const dq = await serviceOver(createRollupWindowRepository(database.db)).monitoring.runMonitor(
      "par",
      "data_quality",
      "manual",
    );
    expect(Object.keys(dq.metrics.features as object).sort()).toEqual([...NUMERIC, "country"].sort());
  });
});

describe("multiclass class cells: rollups match raw rows and the rows themselves", () => {
  const CLASSES = ["cat", "dog", "fox"];
  const sim = sendable(sampleMulticlass(seeded(16), 1500, 0));
  const curSim = sendable(sampleMulticlass(seeded(17), 600, 0.35));
  const probsOf = (p: number[]) => Object.fromEntries(CLASSES.map((c, k) => [c, p[k] as number]));
  const rows = (s: typeof sim, prefix: string, from: Date, span: number) =>
    s.probs.map((p, i) => ({
      id: `${prefix}-${i}`,
      ts: new Date(from.getTime() + Math.floor((i * span) / s.probs.length)).toISOString(),
      model_version: "v1",
      prediction: CLASSES[s.predicted[i] as number] as string,
      confidence: Math.max(...p),
      features: { x: p[0] as number },
      probabilities: probsOf(p),
    }));
  const labelOf = (s: typeof sim, i: number) => CLASSES[s.labels[i] as number] as string;
  const windowOf = (from: Date, to: Date) => ({
    kind: "window" as const,
    modelId: feature.registry.get("mcp").id,
    from,
    to,
  });

  beforeAll(async () => {
    const ref = rows(sim, "mref", REF_FROM, REF_TO.getTime() - REF_FROM.getTime());
    // The first 300 labels come early (they wait and join their predictions at ingest), the rest
    // late (a label delta per bucket), and row 0 is relabelled wrong and back.
    await feature.ingest.ingestLabels(
      "mcp",
      ref.slice(0, 300).map((r, i) => ({ id: r.id, label: labelOf(sim, i) })),
    );
    for (let i = 0; i < ref.length; i += 1000)
      await feature.ingest.ingestPredictions("mcp", ref.slice(i, i + 1000));
    await feature.ingest.ingestLabels(
      "mcp",
      ref.slice(300).map((r, i) => ({ id: r.id, label: labelOf(sim, i + 300) })),
    );
    const wrong = CLASSES.find((c) => c !== labelOf(sim, 0)) as string;
    await feature.ingest.ingestLabels("mcp", [{ id: "mref-0", label: wrong }]);
    await feature.rollups.flush();
    await feature.ingest.ingestLabels("mcp", [{ id: "mref-0", label: labelOf(sim, 0) }]);
    // Unlabelled current rows, left partly unfolded: the rollup path adds pending deltas.
    await feature.ingest.ingestPredictions(
      "mcp",
      rows(curSim, "mcur", CUR_FROM, NOW.getTime() - CUR_FROM.getTime()),
    );
  });

  it("per class, bin and predicted-or-not: counts exact and Σp_k to 1e-9 on both paths, as reduced from the rows", async () => {
    const key = (c: { cls: string; bin: number; predicted: boolean }) => `${c.cls}|${c.bin}|${c.predicted}`;
    for (const [src, s, labelled] of [
      [windowOf(REF_FROM, REF_TO), sim, true],
      [windowOf(CUR_FROM, new Date(NOW.getTime() + 1)), curSim, false],
    ] as const) {
      const want = new Map(
        multiclassCells(s.probs, s.predicted, labelled ? s.labels : undefined).map((c) => [
          `${CLASSES[c.k]}|${c.bin}|${c.predicted}`,
          c,
        ]),
      );
      for (const windows of [
        createRawWindowRepository(database.db),
        createRollupWindowRepository(database.db),
      ]) {
        const got = await windows.classCells(src, 1);
        expect(got.length).toBe(want.size);
        for (const c of got) {
          const w = want.get(key(c));
          expect(w, key(c)).toBeDefined();
          expect([c.n, c.labelled, c.pos], key(c)).toEqual([w?.n, w?.labelled ?? 0, w?.pos ?? 0]);
          expect(Math.abs(c.sp - (w?.sp as number))).toBeLessThanOrEqual(1e-9 * Math.max(1, c.sp));
        }
      }
    }
  });

  it("the reference's per-class calibration and the estimate from rollups equal those from raw rows", async () => {
    const raw = serviceOver(createRawWindowRepository(database.db));
    const rolled = serviceOver(createRollupWindowRepository(database.db));
    const runs = createMonitoringRepository(database.db);
    const modelId = feature.registry.get("mcp").id;
    const out = [];
    for (const s of [raw, rolled]) {
      await s.reference.fromWindow("mcp", REF_FROM, REF_TO, "test");
      const profile = (await runs.latestProfile(modelId))?.profile;
      const run = await s.monitoring.runMonitor("mcp", "performance", "manual");
      out.push({ profile, run });
    }
    const [a, b] = out as [(typeof out)[number], (typeof out)[number]];
    expect(a.profile?.classCalibration?.classes).toEqual(CLASSES);
    expect(b.profile?.classCalibration?.classes).toEqual(CLASSES);
    // Σp_k summed in another order: the same knots to 1e-9.
    a.profile?.classCalibration?.calibrations.forEach((ca, k) => {
      const cb = b.profile?.classCalibration?.calibrations[k];
      expect(cb === null).toBe(ca === null);
      for (const axis of ["x", "y"] as const) {
        expect(cb?.[axis].length).toBe(ca?.[axis].length);
        for (const [i, v] of (ca?.[axis] ?? []).entries())
          expect(Math.abs((cb?.[axis][i] as number) - v)).toBeLessThanOrEqual(1e-9);
      }
    });
    for (const band of ["cbpe_accuracy", "cbpe_macro_f1"] as const) {
      // Chunks split at bucket boundaries (rollups) or exactly by rows (raw): within 0.002.
      expect(
        Math.abs((a.profile?.bands[band]?.mean as number) - (b.profile?.bands[band]?.mean as number)),
      ).toBeLessThanOrEqual(0.002);
    }
    expect(a.run.metrics.mode).toBe("estimated (CBPE)");
    expect(a.run.metrics.rows_with_probabilities).toBe(600);
    expect(b.run.metrics.estimated_macro_f1).toBeCloseTo(a.run.metrics.estimated_macro_f1 as number, 9);
    expect(b.run.metrics.estimated_accuracy).toBeCloseTo(a.run.metrics.estimated_accuracy as number, 9);
    // Both reductions give the same cells, so the same estimate as the cells reduced in memory.
    const cal = a.profile?.classCalibration;
    if (!cal) throw new Error("no class calibration");
    const mem = estimateFromClassCells(
      multiclassCells(curSim.probs, curSim.predicted).map((c) => ({ ...c, cls: CLASSES[c.k] as string })),
      cal,
    );
    expect(a.run.metrics.estimated_macro_f1).toBeCloseTo(mem.macroF1, 3);
  });
});
