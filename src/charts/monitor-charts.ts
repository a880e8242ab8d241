/**
 * The charts a monitor finding brings into its incident thread, built from what the monitor
 * measured: a feature's reference and current distribution overlaid, and the fired metric over
 * the recent runs against its threshold or learned band. Pure functions of their inputs.
 */
import { type MetricSeries, metricSeries, type RunPoint } from "./metric-series.js";
import { formatNumber } from "./render.js";
import type { Band, ChartSpec, HistogramChart, LineChart } from "./spec.js";

/** A reference or current numeric distribution on the reference's inner edges (one more count than edges). */
export interface NumericDistribution {
  kind: "numeric";
  /** Inner cut points: bucket 0 is below the first, the last bucket at or above the last. */
  edges: number[];
  reference: number[];
  current: number[];
  /** The reference's observed range, which closes the open outer buckets. */
  min: number | null;
  max: number | null;
}

/** Reference and current counts per category. */
export interface CategoricalDistribution {
  kind: "categorical";
  reference: Record<string, number>;
  current: Record<string, number>;
}

/** What the drift monitor knows about one drifted column. */
export interface DriftEvidence {
  feature: string;
  method: string;
  /** The statistic the rule judged: a p-value for tests, a distance otherwise. */
  value: number;
  threshold: number;
  /** p-value tests drift below their threshold, distances at or above it. */
  isTest: boolean;
  distribution: NumericDistribution | CategoricalDistribution;
}

/** Most categories a bar chart shows (the largest, by reference and current share together). */
export const MAX_CATEGORIES = 12;

function shares(counts: readonly number[]): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((c) => (total > 0 ? c / total : 0));
}

/** How a drift verdict reads in words: "wasserstein 0.98 ≥ threshold 0.1". */
export function driftVerdict(e: Pick<DriftEvidence, "method" | "value" | "threshold" | "isTest">): string {
  return e.isTest
    ? `${e.method} p = ${formatNumber(e.value)} < ${formatNumber(e.threshold)}`
    : `${e.method} ${formatNumber(e.value)} ≥ threshold ${formatNumber(e.threshold)}`;
}

/** The reference and current distribution of a drifted feature, overlaid. */
export function driftDistributionChart(e: DriftEvidence): ChartSpec {
  const title = `${e.feature}: reference and current distribution`;
  const verdict = driftVerdict(e);
  const d = e.distribution;
  if (d.kind === "numeric") {
    const inner = d.edges;
    const first = inner[0] ?? 0;
    const last = inner[inner.length - 1] ?? first;
    const width = inner.length > 1 ? (last - first) / (inner.length - 1) : 1;
    // The open outer buckets are closed at the reference's range, or one median bin wide.
    const lo = d.min !== null && d.min < first ? d.min : first - width;
    const hi = d.max !== null && d.max > last ? d.max : last + width;
    const chart: HistogramChart = {
      kind: "histogram",
      title,
      subtitle: `Drift: ${verdict}`,
      alt: `Drift in ${e.feature}: ${verdict}. Histogram of ${e.feature}, reference against the current window.`,
      x: { label: e.feature, unit: "reference bins" },
      y: { label: "share of rows" },
      edges: inner.length ? [lo, ...inner, hi] : [lo, hi],
      scale: "bins",
      series: [
        { name: "reference", values: shares(d.reference) },
        { name: "current window", values: shares(d.current) },
      ],
    };
    return chart;
  }
  const refTotal = Object.values(d.reference).reduce((a, b) => a + b, 0) || 1;
  const curTotal = Object.values(d.current).reduce((a, b) => a + b, 0) || 1;
  const names = [...new Set([...Object.keys(d.reference), ...Object.keys(d.current)])];
  const weight = (k: string) => (d.reference[k] ?? 0) / refTotal + (d.current[k] ?? 0) / curTotal;
  const shown = names.sort((a, b) => weight(b) - weight(a) || (a < b ? -1 : 1)).slice(0, MAX_CATEGORIES);
  return {
    kind: "bars",
    title,
    subtitle: `Drift: ${verdict}${names.length > shown.length ? ` (largest ${shown.length} of ${names.length} values)` : ""}`,
    alt: `Drift in ${e.feature}: ${verdict}. Share of rows per value of ${e.feature}, reference against the current window.`,
    x: { label: e.feature },
    y: { label: "share of rows" },
    categories: shown,
    series: [
      { name: "reference", values: shown.map((k) => (d.reference[k] ?? 0) / refTotal) },
      { name: "current window", values: shown.map((k) => (d.current[k] ?? 0) / curTotal) },
    ],
  };
}

/** How strongly a column drifted, comparable across methods: how far past its threshold it is. */
export function driftRank(e: Pick<DriftEvidence, "value" | "threshold" | "isTest">): number {
  if (e.isTest) return e.threshold / Math.max(e.value, 1e-300);
  return e.threshold > 0 ? e.value / e.threshold : e.value;
}

function lineOf(
  series: MetricSeries,
  opts: { title: string; subtitle?: string; alt: string; y: string; unit?: string; seriesName: string },
): LineChart {
  return {
    kind: "line",
    title: opts.title,
    subtitle: opts.subtitle,
    alt: opts.alt,
    x: { label: "monitor run", unit: "UTC" },
    y: { label: opts.y, unit: opts.unit },
    threshold:
      series.threshold !== null
        ? { value: series.threshold, label: `threshold ${formatNumber(series.threshold)}` }
        : undefined,
    series: [
      { name: opts.seriesName, points: series.points.map((p) => ({ t: p.at.getTime(), v: p.value })) },
    ],
  };
}

function trendWords(series: MetricSeries): string {
  const first = series.points[0];
  const last = series.points[series.points.length - 1];
  if (!first || !last) return "no runs with this metric yet";
  return `${series.points.length} runs, from ${formatNumber(first.value)} to ${formatNumber(last.value)}`;
}

/**
 * The fired metric of a finding over the recent runs of its monitor, against its threshold (or,
 * for performance, the learned band and, for CBPE, estimated next to realised). Undefined when
 * the monitor has no chartable metric (the service probe's latency aside).
 */
export function historyChart(
  monitor: string,
  subject: string,
  alertMetrics: Record<string, unknown>,
  runs: readonly RunPoint[],
  extra: { band?: { lower: number; upper: number } | null; isTest?: boolean } = {},
): ChartSpec | undefined {
  if (monitor === "performance") return performanceChart(subject, runs, extra.band ?? null);
  if (monitor === "data_quality" && subject !== "volume" && !subject.startsWith("volume")) {
    const series = metricSeries(monitor, subject, alertMetrics, runs);
    return lineOf(series, {
      title: `${series.label} over recent runs`,
      subtitle: series.threshold !== null ? `Alert above ${formatNumber(series.threshold)}` : undefined,
      alt: `Data quality: ${series.label} over recent monitor runs, ${trendWords(series)}${series.threshold !== null ? `, alert above ${formatNumber(series.threshold)}` : ""}.`,
      y: series.label,
      seriesName: subject,
    });
  }
  const series = metricSeries(monitor, subject, alertMetrics, runs);
  if (monitor === "drift") {
    const isTest = extra.isTest === true;
    const what =
      subject === "dataset"
        ? "share of drifted features"
        : `${String(alertMetrics.method ?? "drift")} of ${subject}`;
    return lineOf(series, {
      title:
        subject === "dataset" ? "Dataset drift over recent runs" : `Drift of ${subject} over recent runs`,
      subtitle:
        series.threshold !== null
          ? `Drift ${isTest ? "below" : "at or above"} ${formatNumber(series.threshold)}`
          : undefined,
      alt: `Drift score of ${subject} over recent monitor runs: ${what}, ${trendWords(series)}${series.threshold !== null ? `, threshold ${formatNumber(series.threshold)}` : ""}.`,
      y: what,
      seriesName: subject,
    });
  }
  if (monitor === "confidence")
    return lineOf(series, {
      title: "Low-confidence share over recent runs",
      subtitle:
        series.threshold !== null ? `Alert above max_low_share ${formatNumber(series.threshold)}` : undefined,
      alt: `Share of predictions under the confidence threshold over recent monitor runs, ${trendWords(series)}${series.threshold !== null ? `, alert above ${formatNumber(series.threshold)}` : ""}.`,
      y: "share under the confidence threshold",
      seriesName: "low-confidence share",
    });
  if (series.points.length === 0) return undefined;
  return lineOf(series, {
    title: `${series.label} over recent runs`,
    alt: `${series.label} over recent monitor runs, ${trendWords(series)}.`,
    y: series.label,
    seriesName: subject,
  });
}

/** Rows per run of a monitor: the volume chart of the data-quality thread. */
export function volumeChart(
  runs: readonly (RunPoint & { rows: number })[],
  expected?: number | null,
): ChartSpec {
  const points = runs
    .filter((r) => r.status === "ok" || r.status === "alert")
    .map((r) => ({ t: r.startedAt.getTime(), v: r.rows }));
  const last = points[points.length - 1];
  return {
    kind: "line",
    title: "Volume over recent runs",
    subtitle: expected ? `Expected about ${formatNumber(expected)} rows per window` : undefined,
    alt: `Rows per data-quality window over ${points.length} recent runs${last ? `, latest ${formatNumber(last.v)}` : ""}.`,
    x: { label: "monitor run", unit: "UTC" },
    y: { label: "rows in the window" },
    threshold: expected ? { value: expected, label: `expected ${formatNumber(expected)}` } : undefined,
    series: [{ name: "rows", points }],
  };
}

function performanceChart(
  metric: string,
  runs: readonly RunPoint[],
  band: { lower: number; upper: number } | null,
): ChartSpec {
  const estimated: { t: number; v: number }[] = [];
  const realised: { t: number; v: number }[] = [];
  let lower: number | null = null;
  // Regression errors (MAE, RMSE, MAPE) alert above their limit; every other metric below it.
  let above = false;
  for (const r of runs) {
    if (r.status !== "ok" && r.status !== "alert") continue;
    if (r.metrics.direction === "above") {
      above = true;
      if (typeof r.metrics.upper === "number") lower = r.metrics.upper;
    }
    const v = r.metrics.value;
    if (typeof v !== "number" || !Number.isFinite(v)) continue;
    const point = { t: r.startedAt.getTime(), v };
    if (String(r.metrics.mode ?? "").startsWith("estimated")) estimated.push(point);
    else realised.push(point);
    if (typeof r.metrics.lower === "number") lower = r.metrics.lower;
  }
  const learned: Band | undefined = band
    ? { lower: band.lower, upper: band.upper, label: "learned band (reference mean ± 3σ)" }
    : undefined;
  const series = [
    ...(realised.length || !estimated.length ? [{ name: `realised ${metric}`, points: realised }] : []),
    ...(estimated.length ? [{ name: `estimated ${metric} (CBPE)`, points: estimated }] : []),
  ];
  const latest = [...realised, ...estimated].sort((a, b) => a.t - b.t).pop();
  const side = above ? "above" : "below";
  return {
    kind: "line",
    title: `${metric} over recent runs`,
    subtitle: learned
      ? above
        ? `Alert above ${formatNumber(learned.upper)}, the learned band's upper edge`
        : `Alert below ${formatNumber(learned.lower)}, the learned band's lower edge`
      : lower !== null
        ? `Alert ${side} ${formatNumber(lower)}`
        : undefined,
    alt: `${metric} over recent monitor runs${estimated.length ? ", estimated by CBPE next to realised" : ""}${latest ? `, latest ${formatNumber(latest.v)}` : ""}${learned ? `, learned band ${formatNumber(learned.lower)} to ${formatNumber(learned.upper)}` : lower !== null ? `, alert ${side} ${formatNumber(lower)}` : ""}.`,
    x: { label: "monitor run", unit: "UTC" },
    y: { label: metric },
    band: learned,
    threshold:
      !learned && lower !== null
        ? { value: lower, label: `alert ${side} ${formatNumber(lower)}` }
        : undefined,
    series,
  };
}
