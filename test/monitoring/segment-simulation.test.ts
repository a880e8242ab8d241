/**
 * Seeded simulation at rollup level (rows generated in memory and rolled up, never stored as
 * rows): 2,000 predictions an hour over six countries, three numeric features N(0,1). In the
 * drift case, f0 of country=DE (5% of traffic) shifts by +1 σ: a KS shift of about 0.38 inside
 * the segment and about 0.02 in the whole, under the whole's 5% critical value (about 0.037).
 * KS at 0.05 with Bonferroni: across the 4 tests of a run, and across its 6 segments too.
 *
 * Measured on 50 seeds (the generator is deterministic, so PG and PGlite give the same figures):
 * the per-segment run finds the DE drift in 50/50 seeds, the global run in 7/50. False alarms
 * (a run raising any finding on data without drift): global 4/50 (8%), per-segment 6/50 (12%),
 * and an undrifted segment named beside DE in 5/50 drift runs (10%). Nominal is ≤ 5% per run
 * (Bonferroni); the excess is the KS p-value on the reference's bins, as for global drift. The
 * bounds below allow the measured rates plus chance, and fail on anything systematic (a segment
 * compared with the wrong rows alarms in nearly every seed).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configSchema } from "../../src/config/index.js";
import type { Database } from "../../src/db/index.js";
import { rollupLayout } from "../../src/ingest/service.js";
import { type RollupRow, rollupBatch } from "../../src/rollups/model.js";
import { createRollupRepository } from "../../src/rollups/repository.js";
import { createSegmentValues, segmentBatch } from "../../src/rollups/segments.js";
import { createMonitoringFeature, type MonitoringFeature } from "../../src/wiring/monitoring-feature.js";
import { openTestDatabase } from "../helpers/db.js";
import { featureContext, manualClock, normal, recordingSink, seeded } from "../helpers/monitoring.js";

const SEEDS = 50;
const ROWS = 2000;
const COUNTRIES: [string, number][] = [
  ["DE", 0.05],
  ["FR", 0.2],
  ["IT", 0.2],
  ["ES", 0.2],
  ["NL", 0.2],
  ["PL", 0.15],
];
const T0 = new Date("2026-11-01T00:00:00Z");
const HOUR = 3_600_000;

const config = configSchema.parse({
  workspace: {
    alert_channel: "#alerts",
    user_groups: { l1: { handle: "ops" }, l2: { handle: "ds" }, t: { handle: "team" } },
  },
  models: [
    {
      slug: "sim",
      name: "Segmented simulation",
      task: "binary_classification",
      owners: "t",
      features: [
        { name: "f0", type: "numeric" },
        { name: "f1", type: "numeric" },
        { name: "f2", type: "numeric" },
        { name: "country", type: "categorical" },
      ],
      segments: ["country"],
      monitors: {
        drift: { window: "1h", method: "ks", threshold: 0.05, bonferroni: true, by_segment: true },
      },
    },
  ],
});

let database: Database;
let feature: MonitoringFeature;
const clock = manualClock(T0);

function country(u: number): string {
  let acc = 0;
  for (const [c, share] of COUNTRIES) {
    acc += share;
    if (u < acc) return c;
  }
  return "PL";
}

/** One hour of traffic starting at `from`, rolled up and recorded as deltas (global and per segment). */
async function hourOf(seed: number, from: Date, shiftDE: number, rows = ROWS) {
  const rand = seeded(seed);
  const model = feature.registry.get("sim");
  const layout = rollupLayout(model);
  const data: (RollupRow & { v: string })[] = Array.from({ length: rows }, (_, i) => {
    const c = country(rand());
    const p = rand() > 0.8 ? "1" : "0";
    return {
      // All in the hour's first minute: one bucket (one delta per segment) per simulated hour.
      t: new Date(from.getTime() + Math.floor((i * 60_000) / rows)).toISOString(),
      v: "v1",
      p,
      c: 0.8 + 0.2 * rand(),
      n: [normal(rand) + (c === "DE" ? shiftDE : 0), normal(rand), normal(rand)],
      k: [c],
      x: null,
    };
  });
  const split = createSegmentValues(50).split(model.id, [{ name: "country", index: 0 }]);
  await createRollupRepository(database.db).insertDeltas(database.db, model.id, [
    ...rollupBatch(data, layout).values(),
    ...segmentBatch(data, layout, split),
  ]);
}

/** Runs drift for the hour ending at `end`: which subjects fired globally and per segment. */
async function driftAt(end: Date) {
  clock.set(new Date(end.getTime() - 1));
  const run = await feature.monitoring.runMonitor("sim", "drift", "manual");
  const subjects = run.findings.map((f) => f.subject);
  return {
    run,
    global: subjects.filter((s) => !s.includes(" @ ")),
    segment: subjects.filter((s) => s.includes(" @ ")),
  };
}

beforeAll(async () => {
  database = await openTestDatabase();
  feature = createMonitoringFeature(featureContext(database, config, clock), {
    sink: recordingSink(),
    schedule: false,
  });
  await feature.ready();
  // The reference: one day, 48,000 predictions, no drift anywhere.
  for (let h = 0; h < 24; h++) await hourOf(10_000 + h, new Date(T0.getTime() + h * HOUR), 0);
  await feature.rollups.flush();
  await feature.reference.fromWindow("sim", T0, new Date(T0.getTime() + 24 * HOUR), "test");
});

afterAll(async () => {
  await feature.stop?.();
  await database.close();
});

describe("segments: seeded simulation at rollup level", () => {
  it(`over ${SEEDS} seeds, a drift inside country=DE is found per segment and missed globally; null data stays silent`, async () => {
    let segmentHits = 0;
    let globalHits = 0;
    let nullGlobalAlarms = 0;
    let nullSegmentAlarms = 0;
    let otherSegmentAlarms = 0;
    for (let seed = 0; seed < SEEDS; seed++) {
      const drifted = new Date(T0.getTime() + (48 + 2 * seed) * HOUR);
      const quiet = new Date(drifted.getTime() + HOUR);
      await hourOf(seed, drifted, 1);
      await hourOf(1000 + seed, quiet, 0);
      const d = await driftAt(new Date(drifted.getTime() + HOUR));
      // Found in DE: raised as its own finding, or counted as covered when the global run caught
      // the same feature in this run (a segment repeating a global finding is not raised twice).
      const de = (d.run.metrics.segments as Record<string, { covered_by_global?: number }>)["country=DE"];
      if (
        d.segment.includes("f0 @ country=DE") ||
        (d.global.includes("f0") && (de?.covered_by_global ?? 0) > 0)
      )
        segmentHits++;
      if (d.global.includes("f0")) globalHits++;
      // Only DE drifted: another segment named is a false alarm too.
      if (d.segment.some((s) => !s.endsWith("@ country=DE"))) otherSegmentAlarms++;
      const q = await driftAt(new Date(quiet.getTime() + HOUR));
      if (q.global.length) nullGlobalAlarms++;
      if (q.segment.length) nullSegmentAlarms++;
    }
    console.info(
      `segments simulation (${SEEDS} seeds): DE drift found per segment ${segmentHits}/${SEEDS}, globally ${globalHits}/${SEEDS}; null data: global false alarms ${nullGlobalAlarms}/${SEEDS}, per-segment ${nullSegmentAlarms}/${SEEDS}; undrifted segments named in drift runs ${otherSegmentAlarms}/${SEEDS}`,
    );
    expect(segmentHits).toBeGreaterThanOrEqual(48);
    expect(globalHits).toBeLessThanOrEqual(10);
    // Measured 4, 6 and 5 of 50 (see the header); a systematic fault alarms in most seeds.
    expect(nullGlobalAlarms).toBeLessThanOrEqual(8);
    expect(nullSegmentAlarms).toBeLessThanOrEqual(8);
    expect(otherSegmentAlarms).toBeLessThanOrEqual(8);
  });

  it("names the segment in the finding and skips a segment too small for the test, saying so", async () => {
    const start = new Date(T0.getTime() + 200 * HOUR);
    await hourOf(77, start, 1, 400); // DE gets about 20 rows: under drift's 30-row minimum.
    const { run } = await driftAt(new Date(start.getTime() + HOUR));
    const segments = run.metrics.segments as Record<string, { status: string; rows: number; note?: string }>;
    expect(segments["country=DE"]?.status).toBe("skipped");
    expect(segments["country=DE"]?.note).toMatch(/fewer than 30 predictions/);
    expect(run.note).toMatch(/segments skipped — country=DE: fewer than 30 predictions/);
    expect(segments["country=FR"]?.status).toBe("ok");
    const bigger = new Date(T0.getTime() + 202 * HOUR);
    // 1,000 rows: DE's ~50 drift clearly while the whole hour does not (a global f0 finding would
    // cover DE's, and the segment finding would be counted rather than raised).
    await hourOf(78, bigger, 1.5, 1000);
    const biggerRun = await driftAt(new Date(bigger.getTime() + HOUR));
    expect(biggerRun.global).not.toContain("f0");
    const named = biggerRun.run.findings.find((f) => f.subject === "f0 @ country=DE");
    expect(named?.title).toMatch(/^Drift in f0: p = .* \(segment country=DE\)$/);
    expect(named?.metrics.segment).toBe("country=DE");
  });
});
