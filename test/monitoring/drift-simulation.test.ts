import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../src/db/index.js";
import { type CurrentColumn, evaluateDrift } from "../../src/monitoring/monitors/drift.js";
import type { NumericProfile, ReferenceProfile } from "../../src/monitoring/profile.js";
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

// Seeded simulation of 10 numeric features N(0,1): the reference is 3,000 predictions over a day,
// the current window 1,500 predictions in the last hour.
const FEATURES = 10;
const DRIFTED = new Set(["f3", "f7"]);
const T0 = new Date("2026-11-20T00:00:00Z");
const NOW = new Date("2026-11-21T12:00:00Z");

let database: Database;
let feature: MonitoringFeature;
const sink = recordingSink();
const clock = manualClock(NOW);
const rand = seeded(42);

function row(id: string, ts: Date, drift: ReadonlySet<string>) {
  const features: Record<string, number> = {};
  for (let i = 0; i < FEATURES; i++) features[`f${i}`] = normal(rand) + (drift.has(`f${i}`) ? 0.6 : 0);
  const p = rand();
  return {
    id,
    ts: ts.toISOString(),
    model_version: "v1",
    prediction: p > 0.8 ? 1 : 0,
    confidence: 0.8 + 0.2 * rand(),
    features,
  };
}

async function ingest(
  prefix: string,
  n: number,
  from: Date,
  spanMs: number,
  drift: ReadonlySet<string> = new Set(),
) {
  for (let start = 0; start < n; start += 1000) {
    const rows = Array.from({ length: Math.min(1000, n - start) }, (_, k) => {
      const i = start + k;
      return row(`${prefix}-${i}`, new Date(from.getTime() + (i * spanMs) / n), drift);
    });
    await feature.ingest.ingestPredictions("sim", rows);
  }
}

beforeAll(async () => {
  database = await openTestDatabase();
  const config = simConfig(
    { drift: { window: "1h", method: "auto", bonferroni: false } },
    // f7 matters five times as much as f3 to the model (the others weigh the mean, 3).
    { features: FEATURES, importance: { f3: 1, f7: 5 } },
  );
  feature = createMonitoringFeature(featureContext(database, config, clock), { sink, schedule: false });
  await feature.ready();
  await ingest("ref", 3000, T0, 86_400_000);
  await feature.reference.fromWindow("sim", T0, new Date(T0.getTime() + 86_400_000), "test");
});
afterAll(async () => {
  await database?.close();
});

describe("drift: seeded simulation", () => {
  it("drift injected in 2 of 10 features is flagged on exactly those, and logged with its rule", async () => {
    await ingest("drifted", 1500, new Date(NOW.getTime() - 3_600_000), 3_599_000, DRIFTED);
    const run = await feature.monitoring.runMonitor("sim", "drift", "manual");
    expect(run.status).toBe("alert");
    expect(run.rows).toBe(1500);
    const flagged = run.findings.map((f) => f.subject).filter((s) => s.startsWith("f"));
    expect(new Set(flagged)).toEqual(DRIFTED);
    // Ranked by importance × drift score: the same shift in f7 (importance 5) leads f3 (1).
    expect(flagged).toEqual(["f7", "f3"]);
    expect(run.findings[0]?.metrics).toMatchObject({ importance: 5 });
    const [f7, f3] = run.findings as [(typeof run.findings)[number], (typeof run.findings)[number]];
    expect(Number(f7.metrics.rank_score)).toBeGreaterThan(Number(f3.metrics.rank_score));
    // Reference n = 3,000 > 1,000, so the default method is normed Wasserstein with threshold 0.1.
    const finding = run.findings.find((f) => f.subject === "f3");
    expect(finding?.rule).toBe("Wasserstein (normed) >= 0.1 (fixed threshold)");
    expect(Number(finding?.metrics.value)).toBeGreaterThan(0.4);
    expect(
      sink.signals
        .filter((s) => s.status === "firing")
        .map((s) => s.subject)
        .sort(),
    ).toEqual(["f3", "f7"]);
    const logged = await feature.monitoring.recent("sim", 1);
    expect(logged[0]).toMatchObject({ monitor: "drift", status: "alert", rows: 1500 });
    const columns = (logged[0]?.metrics as { columns?: object } | undefined)?.columns ?? {};
    expect(Object.keys(columns)).toHaveLength(FEATURES + 1);
  });

  it("when the drift goes away the next run resolves exactly the subjects that fired", async () => {
    clock.advance(2 * 3_600_000);
    await ingest("stable", 1500, new Date(clock.now().getTime() - 3_600_000), 3_599_000);
    sink.signals.length = 0;
    const run = await feature.monitoring.runMonitor("sim", "drift", "manual");
    expect(run.status).toBe("ok");
    expect(sink.signals.map((s) => [s.status, s.subject]).sort()).toEqual([
      ["resolved", "f3"],
      ["resolved", "f7"],
    ]);
  });

  it("100 stable windows: KS flags no more than its nominal 5% of feature tests, Bonferroni keeps window-level alarms under 5%", async () => {
    const stored = await feature.reference.current("sim");
    expect(stored).not.toBeNull();
    const profile = (await featureProfile()) as ReferenceProfile;
    let featureAlarms = 0;
    let windowAlarmsBonferroni = 0;
    const cfg = simConfig({ drift: { method: "ks" } }).models[0]?.monitors.drift;
    if (!cfg) throw new Error("no drift config");
    for (let w = 0; w < 100; w++) {
      const current = new Map<string, CurrentColumn>();
      for (const f of profile.features) {
        const col = f.column as NumericProfile;
        current.set(f.name, {
          kind: "numeric",
          hist: histogram(
            col.edges,
            Array.from({ length: 500 }, () => normal(rand)),
          ),
        });
      }
      const plain = evaluateDrift(profile, { ...cfg, bonferroni: false }, current);
      featureAlarms += plain.columns.filter((c) => c.column !== "prediction" && c.drifted).length;
      const corrected = evaluateDrift(profile, { ...cfg, bonferroni: true }, current);
      if (corrected.columns.some((c) => c.column !== "prediction" && c.drifted)) windowAlarmsBonferroni++;
    }
    expect(featureAlarms / (100 * FEATURES)).toBeLessThanOrEqual(0.05);
    expect(windowAlarmsBonferroni / 100).toBeLessThanOrEqual(0.05);
  });
});

async function featureProfile(): Promise<ReferenceProfile | undefined> {
  const { createMonitoringRepository } = await import("../../src/monitoring/repository.js");
  const model = feature.registry.get("sim");
  return (await createMonitoringRepository(database.db).latestProfile(model.id))?.profile;
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
