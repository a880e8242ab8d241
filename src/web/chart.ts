import type { MetricSeries } from "../charts/metric-series.js";
import { html, type SafeHtml } from "./html.js";

/** Where the incident sits on the chart's time axis. */
export interface ChartMarks {
  openedAt: Date;
  resolvedAt: Date | null;
}

const W = 640;
const H = 200;
const PAD = { left: 56, right: 16, top: 14, bottom: 28 };

function fmt(value: number): string {
  if (value === 0) return "0";
  const abs = Math.abs(value);
  if (abs >= 1000) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 0.01) return value.toFixed(3);
  return value.toExponential(1);
}

function hhmm(date: Date): string {
  return date.toISOString().slice(11, 16);
}

/**
 * A small line chart as inline SVG: the metric per monitor run, the rule's threshold as a dashed
 * line and the incident's open (and resolve) time as vertical marks. Every label is escaped text.
 */
export function lineChart(series: MetricSeries, marks: ChartMarks): SafeHtml {
  if (series.points.length === 0)
    return html`<p class="muted">No monitor runs with this metric around the incident.</p>`;
  const times = [
    ...series.points.map((p) => p.at.getTime()),
    marks.openedAt.getTime(),
    ...(marks.resolvedAt ? [marks.resolvedAt.getTime()] : []),
  ];
  const values = [
    ...series.points.map((p) => p.value),
    ...(series.threshold !== null ? [series.threshold] : []),
  ];
  let t0 = Math.min(...times);
  let t1 = Math.max(...times);
  if (t1 === t0) {
    t0 -= 60_000;
    t1 += 60_000;
  }
  let v0 = Math.min(0, ...values);
  let v1 = Math.max(...values);
  if (v1 === v0) v1 = v0 + 1;
  const span = v1 - v0;
  v1 += span * 0.08;
  if (v0 < 0) v0 -= span * 0.08;
  const x = (t: number) => PAD.left + ((t - t0) / (t1 - t0)) * (W - PAD.left - PAD.right);
  const y = (v: number) => H - PAD.bottom - ((v - v0) / (v1 - v0)) * (H - PAD.top - PAD.bottom);
  const path = series.points
    .map((p, i) => `${i === 0 ? "M" : "L"}${x(p.at.getTime()).toFixed(1)},${y(p.value).toFixed(1)}`)
    .join(" ");
  const ticks = [v0, (v0 + v1) / 2, v1];
  const mark = (at: Date, label: string, cls: string) =>
    html`<line class="${cls}" x1="${x(at.getTime()).toFixed(1)}" x2="${x(at.getTime()).toFixed(1)}" y1="${PAD.top}" y2="${H - PAD.bottom}"/><text class="mark-label" x="${(x(at.getTime()) + 3).toFixed(1)}" y="${PAD.top + 10}">${label}</text>`;
  return html`<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${series.label} per monitor run">
  <title>${series.label} per monitor run</title>
  ${ticks.map(
    (v) =>
      html`<line class="grid" x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}"/><text class="axis" x="${PAD.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${fmt(v)}</text>`,
  )}
  <text class="axis" x="${PAD.left}" y="${H - 8}">${hhmm(new Date(t0))}</text>
  <text class="axis" x="${W - PAD.right}" y="${H - 8}" text-anchor="end">${hhmm(new Date(t1))} UTC</text>
  ${series.threshold !== null ? html`<line class="threshold" x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(series.threshold).toFixed(1)}" y2="${y(series.threshold).toFixed(1)}"/><text class="threshold-label" x="${W - PAD.right}" y="${(y(series.threshold) - 4).toFixed(1)}" text-anchor="end">threshold ${fmt(series.threshold)}</text>` : ""}
  ${mark(marks.openedAt, "opened", "mark-open")}
  ${marks.resolvedAt ? mark(marks.resolvedAt, "resolved", "mark-resolved") : ""}
  <path class="line" d="${path}"/>
  ${series.points.map(
    (p) =>
      html`<circle class="point" cx="${x(p.at.getTime()).toFixed(1)}" cy="${y(p.value).toFixed(1)}" r="3"><title>${p.at.toISOString()}: ${fmt(p.value)}</title></circle>`,
  )}
</svg>`;
}
