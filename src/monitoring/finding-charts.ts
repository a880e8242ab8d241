/**
 * The charts a firing finding takes to its incident thread: what the monitor measured (the
 * distributions of a drifted feature) and the fired metric over the monitor's recent runs.
 */
import { historyChart, volumeChart } from "../charts/monitor-charts.js";
import type { ChartSpec } from "../charts/spec.js";
import type { Finding, MonitorKind, MonitorOutcome } from "./model.js";
import { isTest, type ReferenceProfile } from "./profile.js";

/** How many past runs the metric-over-time chart shows. */
export const HISTORY_RUNS = 48;

/** A stored run as the charts read it. */
export interface HistoryRun {
  startedAt: Date;
  status: string;
  rows: number;
  metrics: Record<string, unknown>;
}

/** The charts of one finding of a run, given the run's monitor history (oldest first, this run last). */
export function findingCharts(
  kind: MonitorKind,
  finding: Finding,
  outcome: MonitorOutcome,
  history: readonly HistoryRun[],
  profile: ReferenceProfile | null,
): ChartSpec[] {
  const charts = [...(outcome.evidence?.[finding.subject] ?? [])];
  if (kind === "probe") return charts;
  let band: { lower: number; upper: number } | null = null;
  if (kind === "performance" && profile) {
    const estimated = String(outcome.metrics.mode ?? "").startsWith("estimated");
    // The run names the band it judged by (a multiclass F1 estimate's is `cbpe_macro_f1`).
    const name =
      typeof outcome.metrics.band === "string"
        ? outcome.metrics.band
        : estimated
          ? `cbpe_${finding.subject}`
          : finding.subject;
    band = profile.bands[name as keyof ReferenceProfile["bands"]] ?? null;
  }
  if (kind === "data_quality") {
    const expected = typeof outcome.metrics.expected_rows === "number" ? outcome.metrics.expected_rows : null;
    const volume = volumeChart(history, expected);
    if (finding.subject.startsWith("volume")) return [...charts, volume];
    const trend = historyChart(kind, finding.subject, finding.metrics, history);
    return [...charts, ...(trend ? [trend] : []), volume];
  }
  const method = String(finding.metrics.method ?? "");
  const trend = historyChart(kind, finding.subject, finding.metrics, history, {
    band,
    isTest:
      kind === "drift" && finding.subject !== "dataset" && isTest(method as Parameters<typeof isTest>[0]),
  });
  if (trend) charts.push(trend);
  return charts;
}
