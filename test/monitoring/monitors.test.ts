import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resultRows } from "../../src/db/client.js";
import type { Database } from "../../src/db/index.js";
import type { ModelServiceClient } from "../../src/monitoring/ports.js";
import { createMonitoringFeature, type MonitoringFeature } from "../../src/wiring/monitoring-feature.js";
import { demoConfig } from "../helpers/bot.js";
import { openTestDatabase } from "../helpers/db.js";
import { featureContext, fraudRow, manualClock, recordingSink, seeded } from "../helpers/monitoring.js";

const DAY = 86_400_000;
const HOUR = 3_600_000;
const REF_FROM = new Date("2026-11-19T00:00:00Z");
const NOW = new Date("2026-11-21T12:00:00Z");

let database: Database;
let feature: MonitoringFeature;
const sink = recordingSink();
const clock = manualClock(NOW);
const rand = seeded(99);
let service: { health: number; latencyMs: number; answer: (features: Record<string, unknown>) => unknown };

const fakeService: ModelServiceClient = {
  async get() {
    if (service.health === 0) throw new Error("connect ECONNREFUSED");
    return { status: service.health, body: { ok: true }, latencyMs: service.latencyMs };
  },
  async post(_url, body) {
    return {
      status: 200,
      body: { prediction: service.answer((body as { features: Record<string, unknown> }).features) },
      latencyMs: service.latencyMs,
    };
  },
};

type Row = ReturnType<typeof fraudRow>;
async function ingest(rows: Row[]) {
  for (let i = 0; i < rows.length; i += 2000)
    await feature.ingest.ingestPredictions("fraud-detector", rows.slice(i, i + 2000));
}
/** n rows spread over [from, from + span), labelled with the outcome their score implies when `label`. */
function rows(
  prefix: string,
  n: number,
  from: Date,
  span: number,
  opts: { drift?: boolean; label?: boolean } = {},
) {
  return Array.from({ length: n }, (_, i) =>
    fraudRow(rand, `${prefix}-${i}`, new Date(from.getTime() + (i * span) / n), opts),
  );
}

beforeAll(async () => {
  database = await openTestDatabase();
  service = { health: 200, latencyMs: 20, answer: (f) => (Number(f.amount) > 1000 ? 1 : 0) };
  feature = createMonitoringFeature(featureContext(database, demoConfig(), clock), {
    sink,
    services: fakeService,
    schedule: false,
  });
  await feature.ready();
  // Reference: two days, 2,400 predictions, labelled by a coin weighted with the true probability.
  const ref = rows("ref", 2400, REF_FROM, 2 * DAY);
  await ingest(ref);
  const labels = ref.map((r) => {
    const p1 = r.prediction === 1 ? r.confidence : 1 - r.confidence;
    return { id: r.id, label: rand() < p1 ? 1 : 0 };
  });
  for (let i = 0; i < labels.length; i += 2000)
    await feature.ingest.ingestLabels("fraud-detector", labels.slice(i, i + 2000));
  await feature.reference.fromWindow(
    "fraud-detector",
    REF_FROM,
    new Date(REF_FROM.getTime() + 2 * DAY),
    "test",
  );
});
afterAll(async () => {
  await feature?.stop?.();
  await database?.close();
});

describe("reference profile", () => {
  it("stores per-feature bins, categories, missing share, confidence and prediction distributions, bands and calibration", async () => {
    const current = await feature.reference.current("fraud-detector");
    expect(current).toMatchObject({ rows: 2400, labelledRows: 2400, features: 7 });
    const [row] = resultRows<{ profile: Record<string, unknown> }>(
      await database.db.execute(sql`select profile from reference_profiles`),
    );
    const p = row?.profile as Record<string, unknown>;
    const amount = (p.features as { name: string; column: Record<string, unknown> }[]).find(
      (f) => f.name === "amount",
    )?.column;
    expect(amount?.kind).toBe("numeric");
    expect(((amount?.edges ?? []) as number[]).length).toBeGreaterThan(90);
    expect(((amount?.counts ?? []) as number[]).reduce((s, c) => s + c, 0)).toBe(2400);
    const channel = (p.features as { name: string; column: Record<string, unknown> }[]).find(
      (f) => f.name === "channel",
    )?.column;
    expect(Object.keys(channel?.counts as object).sort()).toEqual(["pos", "web"]);
    expect(Object.keys(p.bands as object)).toEqual(
      expect.arrayContaining([
        "low_confidence_share",
        "accuracy",
        "f1",
        "roc_auc",
        "cbpe_accuracy",
        "cbpe_f1",
      ]),
    );
    expect((p.chunkValues as { f1: unknown[] }).f1).toHaveLength(10);
  });
});

describe("confidence", () => {
  it("a burst of low-confidence predictions raises a finding on ingest, before any tick", async () => {
    sink.signals.length = 0;
    const burst = rows("burst", 30, new Date(NOW.getTime() - 20_000), 15_000).map((r) => ({
      ...r,
      prediction: 1,
      confidence: 0.55,
    }));
    await ingest(burst);
    await feature.idle();
    const realtime = sink.signals.find((s) => s.monitor === "confidence");
    expect(realtime).toMatchObject({ status: "firing", subject: "low_confidence", model: "fraud-detector" });
    expect(realtime?.rule).toContain(">= 20 predictions under confidence 0.75 within 60s");
    const runs = await feature.monitoring.recent("fraud-detector", 5);
    expect(runs.find((r) => r.monitor === "confidence")).toMatchObject({
      trigger: "realtime",
      status: "alert",
    });
  });

  it("the scheduled run measures the share under the threshold in its window against max_low_share", async () => {
    const run = await feature.monitoring.runMonitor("fraud-detector", "confidence", "schedule");
    expect(run.status).toBe("alert");
    expect(run.metrics).toMatchObject({ low: 30, with_confidence: 30, low_share: 1 });
    expect(run.findings[0]?.rule).toBe("share under confidence 0.75 > 0.2 (fixed threshold)");
  });
});

describe("data quality", () => {
  it("reports missing values, unseen categories, out-of-range values, a new feature and a volume drop", async () => {
    clock.advance(2 * HOUR);
    const at = new Date(clock.now().getTime() - 30 * 60_000);
    const bad = rows("dq", 200, at, 20 * 60_000).map((r, i) => {
      const f = { ...r.features } as Record<string, unknown>;
      if (i % 4 === 0) f.account_age_days = null;
      if (i % 50 === 0) f.country = "ZZ";
      if (i === 7) f.amount = 10_000_000;
      if (i % 10 === 0) f.device_id = "abc";
      return { ...r, features: f } as Row;
    });
    await ingest(bad);
    const run = await feature.monitoring.runMonitor("fraud-detector", "data_quality", "manual");
    expect(run.note).toBeUndefined();
    const subjects = run.findings.map((f) => f.subject).sort();
    expect(subjects).toEqual([
      "missing:account_age_days",
      "range:amount",
      "schema:device_id",
      "unseen:country",
      "volume",
    ]);
    expect(run.findings.find((f) => f.subject === "volume")?.rule).toContain("configured rate");
    expect(run.findings.find((f) => f.subject === "unseen:country")?.title).toContain("ZZ");
  });
});

describe("performance", () => {
  it("estimates accuracy and F1 with CBPE while labels are late, against the learned band", async () => {
    clock.advance(DAY);
    await ingest(rows("cbpe", 300, new Date(clock.now().getTime() - 20 * HOUR), 6 * HOUR));
    const run = await feature.monitoring.runMonitor("fraud-detector", "performance", "manual");
    expect(run.status).not.toBe("error");
    expect(run.metrics).toMatchObject({ mode: "estimated (CBPE)", metric: "f1" });
    expect(run.rule).toMatch(/estimated \(CBPE\) f1 < .* \(learned: reference mean .* − 3σ over 10 chunks\)/);
  });

  it("uses realised metrics once enough labels arrived, and alerts when F1 falls under the band", async () => {
    const recent = rows("perf", 400, new Date(clock.now().getTime() - 12 * HOUR), 6 * HOUR);
    await ingest(recent);
    // Ground truth opposite to every prediction: F1 collapses.
    await feature.ingest.ingestLabels(
      "fraud-detector",
      recent.map((r) => ({ id: r.id, label: r.prediction === 1 ? 0 : 1 })),
    );
    const run = await feature.monitoring.runMonitor("fraud-detector", "performance", "manual");
    expect(run.metrics).toMatchObject({ mode: "realised", accuracy: 0 });
    expect(run.labelledRows).toBe(400);
    expect(run.findings[0]).toMatchObject({ subject: "f1", severityRule: "performance_drop" });
  });
});

describe("service probe", () => {
  it("passes when the service is healthy, fast and right on the golden set", async () => {
    const run = await feature.monitoring.runMonitor("fraud-detector", "probe", "manual");
    expect(run).toMatchObject({ status: "ok", findings: [] });
    expect(run.metrics).toMatchObject({ health: 200, golden_wrong: 0 });
  });

  it("reports a wrong golden answer and slowness, then resolves them when fixed", async () => {
    service = { health: 200, latencyMs: 900, answer: () => 0 };
    sink.signals.length = 0;
    const run = await feature.monitoring.runMonitor("fraud-detector", "probe", "manual");
    expect(run.findings.map((f) => f.subject).sort()).toEqual(["golden", "latency"]);
    service = { health: 200, latencyMs: 20, answer: (f) => (Number(f.amount) > 1000 ? 1 : 0) };
    await feature.monitoring.runMonitor("fraud-detector", "probe", "manual");
    expect(sink.signals.map((s) => `${s.status}:${s.subject}`).sort()).toEqual([
      "firing:golden",
      "firing:latency",
      "resolved:golden",
      "resolved:latency",
    ]);
  });

  it("on schedule, one failed probe is held; the second in a row alerts", async () => {
    service = { ...service, health: 503 };
    const first = await feature.monitoring.runMonitor("fraud-detector", "probe", "schedule");
    expect(first).toMatchObject({ status: "ok", findings: [] });
    expect(first.metrics).toMatchObject({ health: 503, failure_streak: 1 });
    const second = await feature.monitoring.runMonitor("fraud-detector", "probe", "schedule");
    expect(second.findings).toEqual([expect.objectContaining({ subject: "availability" })]);
    expect(second.metrics).toMatchObject({ failure_streak: 2 });
    service = { ...service, health: 200 };
    const healthy = await feature.monitoring.runMonitor("fraud-detector", "probe", "schedule");
    expect(healthy).toMatchObject({ status: "ok", findings: [] });
    expect(healthy.metrics).toMatchObject({ failure_streak: 0 });
  });

  it("an unreachable service is a critical availability finding", async () => {
    service = { ...service, health: 0 };
    const run = await feature.monitoring.runMonitor("fraud-detector", "probe", "manual");
    expect(run.findings).toEqual([
      expect.objectContaining({ subject: "availability", severityRule: "probe_down" }),
    ]);
    service = { ...service, health: 200 };
  });
});

describe("every run is logged", () => {
  it("monitor_runs keeps window, row counts, metrics, rule, findings and duration of each run", async () => {
    const runs = resultRows<Record<string, unknown>>(
      await database.db.execute(
        sql`select monitor, trigger, status, window_from, window_to, rows, metrics, rule, findings, duration_ms from monitor_runs order by id`,
      ),
    );
    expect(runs.length).toBeGreaterThanOrEqual(9);
    const dq = runs.find((r) => r.monitor === "data_quality");
    expect(dq).toMatchObject({ trigger: "manual", status: "alert", rows: 200 });
    expect(dq?.window_from).not.toBeNull();
    expect(typeof dq?.duration_ms).toBe("number");
    expect(dq?.rule).toBeTruthy();
  });
});
