import type { OutboxMessage } from "../outbox/index.js";
import type { ChartSpec } from "./spec.js";

/** The longest alt text Slack takes (`alt_txt_too_large` beyond it). */
export const MAX_ALT_TEXT = 1000;

/** A file name from a chart's title: lower case, words joined by dashes. */
export function chartFileName(prefix: string, chart: ChartSpec): string {
  const words = chart.title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 60)
    .replace(/-+$/, "");
  return `${prefix}-${words || "chart"}.png`;
}

/**
 * The outbox payload of a chart upload (`files.uploadV2`): the chart's description, rendered to
 * PNG only when the row is delivered, so rendering never sits on a request path and a retried row
 * uploads the same picture. The file name is unique within its thread, which is how a delivery
 * whose outcome was lost in a crash is found in Slack instead of posted twice.
 */
export function chartUpload(chart: ChartSpec, prefix: string): Record<string, unknown> {
  return {
    filename: chartFileName(prefix, chart),
    title: chart.title,
    alt_text: chart.alt.slice(0, MAX_ALT_TEXT),
    chart,
  };
}

/** The outbox message that uploads a chart into the thread of the post `parentId` (top level without one). */
export function chartMessage(
  channel: string,
  parentId: number | undefined,
  chart: ChartSpec,
  prefix: string,
): OutboxMessage {
  return { method: "files.uploadV2", channel, parentId, payload: chartUpload(chart, prefix) };
}
