/**
 * Seeded simulation of a regression model whose residuals grow. Labels y ~ 50 + 10·N(0,1); the
 * reference's residuals are N(0, 2²) (2,000 labelled predictions over a day, 10 chunks of 200),
 * a window holds 600 labelled predictions. "Grown" doubles the residuals' spread (N(0, 4²)).
 *
 * Through the monitors (one seed, stored and rolled up): a null window is silent, a grown one
 * fires RMSE above its learned band and drift on the residual.
 *
 * Over 50 seeds (rollup-sized: each seed's reference and windows are folded into rollups in
 * process, then judged with the monitors' own rules): the false alarm rate on null windows, of
 * RMSE, MAE and the residual's drift check together, is measured at 3/50 = 6%, all three from the
 * residual's drift check (normed Wasserstein ≥ 0.1, the default for a 2,000-row reference, which
 * like any per-column rule alarms on a few percent of stable windows). RMSE and MAE never alarm:
 * their bands are 3σ of 200-row chunks, wider than a 600-row window needs. Every grown window is
 * caught by all three checks (50/50).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../src/db/index.js";
import { evaluateDrift } from "../../src/monitoring/monitors/drift.js";
import { judgeRegression } from "../../src/monitoring/monitors/regression-performance.js";
import type { NumericProfile, ReferenceProfile } from "../../src/monitoring/profile.js";
import { regressionReference } from "../../src/monitoring/regression-reference.js";
import { createMonitoringRepository } from "../../src/monitoring/repository.js";
import { learnedBand, type RegressionMoments, regressionMetrics } from "../../src/monitoring/stats/index.js";
import type { WindowRepository } from "../../src/monitoring/window-repository.js";
import { addRegression, emptyRollup, type RegressionAgg } from "../../src/rollups/model.js";
import { createMonitoringFeature, type MonitoringFeature } from "../../src/wiring/monitoring-feature.js";
import { openTestDatabase } from "../helpers/db.js";
import { featureContext, manualClock, normal, recordingSink, seeded } from "../helpers/monitoring.js";
import {
  type RegressionSample,
  regressionConfig,
  regressionLabels,
  regressionPredictions,
  regressionSample,
} from "../helpers/regression.js";

const REF_ROWS = 2000;
const WINDOW_ROWS = 600;
const NOISE = 2;
const GROWN = 4;
const SEEDS = 50;
const DAY = 86_400_000;
const HOUR = 3_600_000;
const T0 = new Date("2026-11-20T00:00:00Z");
const NOW = new Date("2026-11-21T12:00:00Z");
const config = regressionConfig({
  drift: { window: "1h" },
  performance: { window: "1h", metric: "rmse", min_labels: 100 },
});
const driftCfg = config.models[0]?.monitors.drift as NonNullable<
  (typeof config.models)[number]["monitors"]["drift"]
>;

/** One rollup's regression moments of a sample (what the folder would hold for it). */
function folded(s: RegressionSample): RegressionAgg {
  const r = emptyRollup();
  s.label.forEach((y, i) => {
    addRegression(r, s.prediction[i] as number, y);
  });
  return r.regression as RegressionAgg;
}

const residuals = (s: RegressionSample) => s.label.map((y, i) => y - (s.prediction[i] as number));

/** A numeric profile as baseline.ts makes it: percentile edges, counts and means per bin. */
function profileOf(xs: readonly number[]): NumericProfile {
  const sorted = [...xs].sort((a, b) => a - b);
  const q = (p: number) => {
    const r = p * (sorted.length - 1);
    const lo = Math.floor(r);
    return (
      (sorted[lo] as number) +
      ((sorted[Math.min(lo + 1, sorted.length - 1)] as number) - (sorted[lo] as number)) * (r - lo)
    );
  };
  const edges = [...new Set(Array.from({ length: 99 }, (_, i) => q((i + 1) / 100)))];
  const h = histogram(edges, xs);
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const std = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
  return {
    kind: "numeric",
    n: xs.length,
    missing: 0,
    edges,
    counts: h.counts,
    means: h.counts.map((c, i) => (c > 0 ? (h.sums[i] as number) / c : null)),
    min: sorted[0] as number,
    max: sorted[sorted.length - 1] as number,
    mean,
    std,
    distinct: xs.length,
    discrete: false,
  };
}

/** The SQL reduction done in process: counts and sums per bucket, `width_bucket` semantics. */
function histogram(edges: readonly number[], values: readonly number[]) {
  const counts = new Array(edges.length + 1).fill(0);
  const sums = new Array(edges.length + 1).fill(0);
  for (const v of values) {
    let lo = 0;
    let hi = edges.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (v >= (edges[mid] as number)) lo = mid + 1;
      else hi = mid;
    }
    counts[lo]++;
    sums[lo] += v;
  }
  return { counts, sums, missing: 0 };
}

/** One seed: a reference (10 chunk rollups) and a null and a grown window; what each check says. */
async function simulate(seed: number) {
  const rand = seeded(seed);
  const n = () => normal(rand);
  const chunks = Array.from({ length: 10 }, () => regressionSample(n, REF_ROWS / 10, { noise: NOISE }));
  // The reference service's own code, over the chunk rollups instead of the database.
  const windows = {
    regression: async () => chunks.map((c, i) => ({ chunk: i + 1, ...moments(folded(c)) })),
  } as unknown as WindowRepository;
  const ref = await regressionReference(windows, { kind: "upload", uploadId: 0 }, 10);
  const residual = profileOf(chunks.flatMap(residuals));
  const profile = { features: [], prediction: residual, residual } as unknown as ReferenceProfile;
  const judge = (s: RegressionSample) => {
    const m = regressionMetrics(folded(s));
    const fired = (k: "rmse" | "mae") =>
      judgeRegression(k, m[k], learnedBand(ref.chunkValues[k] ?? []), ref.performance[k]).fired;
    const drift = evaluateDrift(
      profile,
      driftCfg,
      new Map([["(residual)", { kind: "numeric" as const, hist: histogram(residual.edges, residuals(s)) }]]),
    );
    return { rmse: fired("rmse"), mae: fired("mae"), residual: drift.columns[0]?.drifted === true };
  };
  return {
    null: judge(regressionSample(n, WINDOW_ROWS, { noise: NOISE })),
    grown: judge(regressionSample(n, WINDOW_ROWS, { noise: GROWN })),
  };
}

function moments(a: RegressionAgg): RegressionMoments {
  const { residual: _, ...m } = a;
  return m;
}

let database: Database;
let feature: MonitoringFeature;
const clock = manualClock(NOW);

async function ingest(s: RegressionSample, prefix: string, from: Date, span: number) {
  const rows = regressionPredictions(s, prefix, from, span);
  for (let i = 0; i < rows.length; i += 1000)
    await feature.ingest.ingestPredictions("reg", rows.slice(i, i + 1000));
  await feature.ingest.ingestLabels("reg", regressionLabels(s, prefix));
  await feature.rollups.flush();
}

beforeAll(async () => {
  database = await openTestDatabase();
  feature = createMonitoringFeature(featureContext(database, config, clock), {
    sink: recordingSink(),
    schedule: false,
  });
  await feature.ready();
  const rand = seeded(7);
  await ingest(
    regressionSample(() => normal(rand), REF_ROWS, { noise: NOISE }),
    "ref",
    T0,
    DAY,
  );
  await feature.reference.fromWindow("reg", T0, new Date(T0.getTime() + DAY), "test");
});
afterAll(async () => {
  await feature?.stop?.();
  await database?.close();
});

describe("regression performance and residual drift: seeded simulation", () => {
  it("a window like the reference is silent; one whose residuals doubled fires RMSE above its band and residual drift", async () => {
    const rand = seeded(8);
    const n = () => normal(rand);
    await ingest(
      regressionSample(n, WINDOW_ROWS, { noise: NOISE }),
      "null",
      new Date(NOW.getTime() - HOUR),
      HOUR - 1000,
    );
    const quiet = await feature.monitoring.runMonitor("reg", "performance", "manual");
    expect(quiet.status).toBe("ok");
    expect(quiet.labelledRows).toBe(WINDOW_ROWS);
    const quietDrift = await feature.monitoring.runMonitor("reg", "drift", "manual");
    expect(quietDrift.findings).toEqual([]);

    clock.advance(2 * HOUR);
    await ingest(
      regressionSample(n, WINDOW_ROWS, { noise: GROWN }),
      "grown",
      new Date(clock.now().getTime() - HOUR),
      HOUR - 1000,
    );
    const perf = await feature.monitoring.runMonitor("reg", "performance", "manual");
    expect(perf.status).toBe("alert");
    expect(perf.findings[0]?.subject).toBe("rmse");
    expect(Number(perf.metrics.rmse)).toBeGreaterThan(Number(perf.metrics.upper));
    expect(perf.findings[0]?.title).toMatch(
      /^RMSE rose to [\d.]+ \(reference [\d.]+\): MAE [\d.]+, RMSE [\d.]+, MAPE [\d.]+%, R² [\d.]+$/,
    );
    const drift = await feature.monitoring.runMonitor("reg", "drift", "manual");
    expect(drift.findings.map((f) => f.subject)).toEqual(["(residual)"]);
  });

  it(`over ${SEEDS} seeds: 3/${SEEDS} null windows alarm (6%, all residual drift, RMSE and MAE none), every grown window caught`, async () => {
    let falseAlarms = 0;
    let caught = 0;
    const perCheck = { rmse: 0, mae: 0, residual: 0 };
    for (let seed = 1; seed <= SEEDS; seed++) {
      const r = await simulate(1000 + seed);
      if (r.null.rmse || r.null.mae || r.null.residual) falseAlarms++;
      for (const k of ["rmse", "mae", "residual"] as const) if (r.null[k]) perCheck[k]++;
      if (r.grown.rmse && r.grown.mae && r.grown.residual) caught++;
    }
    // Measured with these seeds (deterministic): 3 of 50 null windows alarm, 6%, every one from the
    // residual's drift check (a per-column rule at its nominal level); RMSE and MAE never.
    expect({ falseAlarms, perCheck }).toEqual({ falseAlarms: 3, perCheck: { rmse: 0, mae: 0, residual: 3 } });
    expect(caught).toBe(SEEDS);
  });

  it("a reference made before regression metrics is read: performance asks for a new baseline, drift skips the residual", async () => {
    const runs = createMonitoringRepository(database.db);
    const model = feature.registry.get("reg");
    const current = (await runs.latestProfile(model.id))?.profile as ReferenceProfile;
    const { residual: _, ...older } = structuredClone(current);
    for (const k of ["mae", "rmse", "mape", "r2"] as const) {
      delete older.bands[k];
      delete older.chunkValues[k];
    }
    await runs.saveProfile({
      modelId: model.id,
      modelVersion: null,
      source: { kind: "window", from: T0.toISOString(), to: NOW.toISOString() },
      profile: { ...older, performance: null },
      createdBy: "test",
      at: clock.now(),
    });
    const perf = await feature.monitoring.runMonitor("reg", "performance", "manual");
    expect(perf.status).toBe("skipped");
    expect(perf.note).toMatch(/^the reference has no rmse .*: set a new baseline$/);
    const drift = await feature.monitoring.runMonitor("reg", "drift", "manual");
    expect(Object.keys(drift.metrics.columns as object)).toEqual(["x", "prediction"]);
  });
});
