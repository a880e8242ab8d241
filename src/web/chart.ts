import type { MetricSeries } from "../charts/metric-series.js";
import { formatNumber, renderSvg } from "../charts/render.js";
import type { LineChart } from "../charts/spec.js";
import { html, raw, type SafeHtml } from "./html.js";

/** Where the incident sits on the chart's time axis. */
export interface ChartMarks {
  openedAt: Date;
  resolvedAt: Date | null;
}

/** The incident's metric as a chart description: the runs, the threshold, the opening and resolution. */
export function incidentLineChart(series: MetricSeries, marks: ChartMarks): LineChart {
  const first = series.points[0];
  const last = series.points[series.points.length - 1];
  return {
    kind: "line",
    title: `${series.label} per monitor run`,
    subtitle: series.threshold !== null ? `Judged against ${formatNumber(series.threshold)}` : undefined,
    alt: `${series.label} per monitor run around the incident${first && last ? `, ${series.points.length} runs from ${formatNumber(first.value)} to ${formatNumber(last.value)}` : ""}${series.threshold !== null ? `, threshold ${formatNumber(series.threshold)}` : ""}.`,
    x: { label: "monitor run", unit: "UTC" },
    y: { label: series.label },
    threshold:
      series.threshold !== null
        ? { value: series.threshold, label: `threshold ${formatNumber(series.threshold)}` }
        : undefined,
    series: [{ name: series.label, points: series.points.map((p) => ({ t: p.at.getTime(), v: p.value })) }],
    marks: [
      { t: marks.openedAt.getTime(), label: "opened" },
      ...(marks.resolvedAt ? [{ t: marks.resolvedAt.getTime(), label: "resolved" }] : []),
    ],
  };
}

/**
 * The incident's metric per monitor run as inline SVG, drawn by the same renderer as the charts
 * posted into Slack (`src/charts/render.ts`), so the page and the thread always agree.
 */
export function lineChart(series: MetricSeries, marks: ChartMarks): SafeHtml {
  if (series.points.length === 0)
    return html`<p class="muted">No monitor runs with this metric around the incident.</p>`;
  if (series.points.length === 1)
    return html`<p class="muted">Only one monitor run with this metric so far (${formatNumber(series.points[0]?.value ?? Number.NaN)}): too little history to draw.</p>`;
  // The renderer escapes every text it draws.
  return raw(renderSvg(incidentLineChart(series, marks), "chart"));
}
