/**
 * What a chart is, apart from how it is drawn: the description every chart in Slack, the
 * sandbox and the incident log is rendered from. It is plain JSON, so an outbox row can carry it
 * and the PNG is rendered when the row is delivered, off every request path.
 */

/** An axis: what it measures and in which unit ("share of rows", "%"; "" when it has none). */
export interface Axis {
  label: string;
  unit?: string | undefined;
}

/** A horizontal line the chart is judged against (a drift threshold, `max_low_share`). */
export interface Threshold {
  value: number;
  /** e.g. "threshold 0.1"; drawn beside the line. */
  label: string;
}

/** A learned band (reference mean ± 3σ): the area inside is normal. */
export interface Band {
  lower: number;
  upper: number;
  label: string;
}

interface ChartBase {
  title: string;
  /** One line under the title saying what the chart is judged against, in words. */
  subtitle?: string | undefined;
  /** What the chart shows, for screen readers and notification previews (Slack's alt text). */
  alt: string;
  x: Axis;
  y: Axis;
  threshold?: Threshold | undefined;
  band?: Band | undefined;
}

/** A point of a time series; `lo`/`hi` draw its confidence interval. */
export interface TimePoint {
  /** Epoch milliseconds. */
  t: number;
  v: number;
  lo?: number | undefined;
  hi?: number | undefined;
}

/** Values over time, one line per series. */
export interface LineChart extends ChartBase {
  kind: "line";
  series: { name: string; points: TimePoint[] }[];
  /** Moments marked by a vertical line (an incident's opening and resolution). */
  marks?: { t: number; label: string }[] | undefined;
}

/**
 * Distributions on shared bins, overlaid: the first series is drawn filled (the reference), later
 * ones as outlines over it. `edges` has one more entry than each series' `values`.
 */
export interface HistogramChart extends ChartBase {
  kind: "histogram";
  edges: number[];
  series: { name: string; values: number[] }[];
  /**
   * `linear` (default) places bins by value; `bins` draws every bin the same width, labelled by
   * its edges: for the reference's quantile bins, where a skewed feature would crowd them together.
   */
  scale?: "linear" | "bins" | undefined;
}

/** Grouped bars per category (categorical distributions, champion against challenger). */
export interface BarChart extends ChartBase {
  kind: "bars";
  categories: string[];
  series: { name: string; values: number[]; lo?: number[] | undefined; hi?: number[] | undefined }[];
}

/** Any chart. */
export type ChartSpec = LineChart | HistogramChart | BarChart;

/** The fixed colours, so a legend, a test and a reader all agree on which series is which. */
export const PALETTE = {
  series: ["#1f6feb", "#e8710a", "#1a7f37", "#8250df"] as const,
  threshold: "#cf222e",
  band: "#2f8f83",
  text: "#1f2328",
  muted: "#59636e",
  grid: "#d1d9e0",
  mark: "#9a6700",
  background: "#ffffff",
} as const;

/** The colour of the n-th series. */
export function seriesColour(index: number): string {
  return PALETTE.series[index % PALETTE.series.length] as string;
}
