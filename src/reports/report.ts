/**
 * A model's report over a period: how each monitor fared, the incidents opened and resolved,
 * their response times per stage, the noisiest fingerprints, the runbooks that fixed things, the drift scores,
 * and one chart per monitor. Read with a handful of aggregate queries (none scans raw
 * predictions); the same numbers back `/mlops report` and the weekly digest.
 */
import { sql } from "drizzle-orm";
import type { RunPoint } from "../charts/metric-series.js";
import { historyChart, volumeChart } from "../charts/monitor-charts.js";
import type { ChartSpec, LineChart } from "../charts/spec.js";
import type { ModelConfig } from "../config/index.js";
import type { PagerConfig } from "../config/pagers.js";
import { resultRows } from "../db/client.js";
import type { Db } from "../db/index.js";
import { configuredMonitors, type MonitorKind } from "../monitoring/model.js";
import type { ReferenceProfile } from "../monitoring/profile.js";
import { type OnCallReport, onCallReport } from "./oncall.js";
import { type ResponseMetrics, responseMetrics } from "./response.js";

/** Most points a report chart draws; longer histories are averaged into this many buckets. */
export const MAX_CHART_POINTS = 168;

/** How one monitor fared over the period. */
export interface MonitorHealth {
  monitor: MonitorKind;
  /** The newest run's status in the period, or null when it did not run. */
  latest: "ok" | "alert" | "skipped" | "error" | null;
  runs: { ok: number; alert: number; skipped: number; error: number };
}

/** A drift column over the period. */
export interface DriftScore {
  column: string;
  method: string;
  maxValue: number;
  lastValue: number | null;
  driftedRuns: number;
  runs: number;
}

/** Everything one model's report says. */
export interface ModelReport {
  model: string;
  name: string;
  from: Date;
  to: Date;
  monitors: MonitorHealth[];
  incidents: { opened: number; resolved: number; stillOpen: number };
  /** Per response stage: count, p50, p90, mean; the noisiest fingerprints; runbooks that fixed things. */
  response: ResponseMetrics;
  drift: DriftScore[];
  /** Who was on call, who was paged where, and who answered from where. */
  oncall: OnCallReport;
  charts: ChartSpec[];
}

const iso = (d: Date) => d.toISOString();
const time = (v: unknown) => (v instanceof Date ? v : new Date(String(v)));

type ChartRun = RunPoint & { rows: number };

/** Averages a run history into at most `max` buckets of equal time, keeping the worst status. */
export function downsample(
  runs: readonly ChartRun[],
  from: Date,
  to: Date,
  max = MAX_CHART_POINTS,
): ChartRun[] {
  if (runs.length <= max) return runs.map((r) => ({ ...r }));
  const width = (to.getTime() - from.getTime()) / max;
  const buckets = new Map<number, ChartRun[]>();
  for (const r of runs) {
    if (r.status !== "ok" && r.status !== "alert") continue;
    const b = Math.min(max - 1, Math.floor((r.startedAt.getTime() - from.getTime()) / width));
    const list = buckets.get(b) ?? [];
    list.push(r);
    buckets.set(b, list);
  }
  const out: ChartRun[] = [];
  for (const [b, list] of [...buckets.entries()].sort((x, y) => x[0] - y[0])) {
    const metrics: Record<string, unknown> = {};
    const keys = new Set(list.flatMap((r) => Object.keys(r.metrics)));
    for (const k of keys) {
      const nums = list.map((r) => r.metrics[k]).filter((v): v is number => typeof v === "number");
      metrics[k] = nums.length
        ? nums.reduce((a, c) => a + c, 0) / nums.length
        : list[list.length - 1]?.metrics[k];
    }
    out.push({
      startedAt: new Date(from.getTime() + (b + 0.5) * width),
      status: list.some((r) => r.status === "alert") ? "alert" : "ok",
      rows: list.reduce((a, r) => a + r.rows, 0) / list.length,
      metrics,
    });
  }
  return out;
}

/** The chart of one monitor over the period. */
function monitorChart(
  kind: MonitorKind,
  config: ModelConfig,
  runs: readonly (RunPoint & { rows: number })[],
  profile: ReferenceProfile | null,
): ChartSpec | undefined {
  const m = config.monitors;
  switch (kind) {
    case "confidence":
      return historyChart(
        "confidence",
        "low_confidence",
        { max_low_share: m.confidence?.max_low_share ?? null },
        runs,
      );
    case "drift": {
      const chart = historyChart(
        "drift",
        "dataset",
        { threshold: m.drift?.dataset_drift_share ?? null },
        runs,
      );
      return chart ? { ...chart, title: "Share of drifted features over the period" } : undefined;
    }
    case "data_quality":
      return volumeChart(runs);
    case "performance": {
      const metric = m.performance?.metric ?? "accuracy";
      const estimated = runs.some((r) => String(r.metrics.mode ?? "").startsWith("estimated"));
      const band =
        profile?.bands[(estimated ? `cbpe_${metric}` : metric) as keyof ReferenceProfile["bands"]] ?? null;
      return historyChart("performance", metric, {}, runs, { band });
    }
    case "probe": {
      const chart = historyChart(
        "probe",
        "latency",
        { max_latency_ms: m.probe?.max_latency_ms ?? null },
        runs,
      );
      return chart?.kind === "line"
        ? ({ ...chart, title: "Slowest probe call over the period" } as LineChart)
        : chart;
    }
  }
}

/** Builds a model's report over [from, to). */
export async function buildModelReport(
  db: Db,
  input: {
    modelId: number;
    config: ModelConfig;
    from: Date;
    to: Date;
    topFingerprints: number;
    profile: ReferenceProfile | null;
    /** The configured pagers, to name them as people say them. */
    pagers?: Readonly<Record<string, PagerConfig>>;
  },
): Promise<ModelReport> {
  const { modelId, config, from, to } = input;
  const slug = config.slug;
  const kinds = configuredMonitors(config);

  const statusRows = resultRows<{ monitor: string; status: string; n: number | string }>(
    await db.execute(sql`select monitor, status, count(*) as n from monitor_runs
      where model_id = ${modelId} and started_at >= ${iso(from)}::timestamptz and started_at < ${iso(to)}::timestamptz
      group by monitor, status`),
  );
  const latestRows = resultRows<{ monitor: string; status: string }>(
    await db.execute(sql`select distinct on (monitor) monitor, status from monitor_runs
      where model_id = ${modelId} and started_at >= ${iso(from)}::timestamptz and started_at < ${iso(to)}::timestamptz
      order by monitor, started_at desc, id desc`),
  );
  const monitors: MonitorHealth[] = kinds.map((monitor) => {
    const runs = { ok: 0, alert: 0, skipped: 0, error: 0 };
    for (const r of statusRows)
      if (r.monitor === monitor && r.status in runs) runs[r.status as keyof typeof runs] += Number(r.n);
    const latest = latestRows.find((r) => r.monitor === monitor)?.status ?? null;
    return { monitor, latest: latest as MonitorHealth["latest"], runs };
  });

  const [openedRow] = resultRows<{ n: number | string }>(
    await db.execute(sql`select count(*) as n from incidents
      where model = ${slug} and opened_at >= ${iso(from)}::timestamptz and opened_at < ${iso(to)}::timestamptz`),
  );
  const [resolvedRow] = resultRows<{ n: number | string }>(
    await db.execute(sql`select count(*) as n from incidents
      where model = ${slug} and resolved_at >= ${iso(from)}::timestamptz and resolved_at < ${iso(to)}::timestamptz`),
  );
  const [openRow] = resultRows<{ n: number | string }>(
    await db.execute(sql`select count(*) as n from incidents where model = ${slug} and state <> 'resolved'
      and opened_at < ${iso(to)}::timestamptz`),
  );
  const response = await responseMetrics(db, { model: slug, from, to }, input.topFingerprints);
  const oncall = await onCallReport(db, { model: slug, from, to }, input.pagers ?? {});

  const driftRows = kinds.includes("drift")
    ? resultRows<{
        column: string;
        method: string;
        max_value: number | string;
        drifted: number | string;
        runs: number | string;
        last_value: number | string | null;
      }>(
        await db.execute(sql`with cols as (
            select r.started_at, r.id, c.key as col, c.value as v
            from monitor_runs r, jsonb_each(case when jsonb_typeof(r.metrics -> 'columns') = 'object' then r.metrics -> 'columns' else '{}'::jsonb end) c
            where r.model_id = ${modelId} and r.monitor = 'drift' and r.status in ('ok', 'alert')
              and r.started_at >= ${iso(from)}::timestamptz and r.started_at < ${iso(to)}::timestamptz
          ), ranked as (
            select col, v, row_number() over (partition by col order by started_at desc, id desc) as rn from cols
          )
          select col as column, max(v ->> 'method') as method, max((v ->> 'value')::float8) as max_value,
            sum(case when (v ->> 'drifted')::boolean then 1 else 0 end) as drifted, count(*) as runs,
            max(case when rn = 1 then (v ->> 'value')::float8 end) as last_value
          from ranked group by col`),
      )
    : [];
  const drift: DriftScore[] = driftRows
    .map((r) => ({
      column: r.column,
      method: r.method,
      maxValue: Number(r.max_value),
      lastValue: r.last_value === null ? null : Number(r.last_value),
      driftedRuns: Number(r.drifted),
      runs: Number(r.runs),
    }))
    .sort(
      (a, b) => b.driftedRuns - a.driftedRuns || b.maxValue - a.maxValue || (a.column < b.column ? -1 : 1),
    );

  const charts: ChartSpec[] = [];
  for (const kind of kinds) {
    const history = resultRows<{
      started_at: unknown;
      status: string;
      rows: number | string;
      metrics: Record<string, unknown>;
    }>(
      await db.execute(sql`select started_at, status, rows, metrics - 'columns' as metrics from monitor_runs
        where model_id = ${modelId} and monitor = ${kind}
          and started_at >= ${iso(from)}::timestamptz and started_at < ${iso(to)}::timestamptz
        order by started_at, id`),
    ).map((r) => ({
      startedAt: time(r.started_at),
      status: r.status,
      rows: Number(r.rows),
      metrics: r.metrics ?? {},
    }));
    // Every monitor gets its chart; one without runs in the period says so on an empty plot.
    charts.push(
      monitorChart(kind, config, downsample(history, from, to), input.profile) ?? {
        kind: "line",
        title: `${kind} over the period`,
        alt: `${kind}: no runs with a number to draw in the period.`,
        x: { label: "monitor run", unit: "UTC" },
        y: { label: kind },
        series: [],
      },
    );
  }

  return {
    model: slug,
    name: config.name,
    from,
    to,
    monitors,
    incidents: {
      opened: Number(openedRow?.n ?? 0),
      resolved: Number(resolvedRow?.n ?? 0),
      stillOpen: Number(openRow?.n ?? 0),
    },
    response,
    drift,
    oncall,
    charts,
  };
}
