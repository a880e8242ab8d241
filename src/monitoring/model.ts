/** Monitor runs and findings: the shapes every monitor produces and the rules shared by them. */
import type { ChartSpec } from "../charts/spec.js";
import type { MlopsConfig, ModelConfig } from "../config/index.js";
import { SEVERITY_RULES, type Severity, type SeverityRule } from "../shared/severity.js";

/** The monitors, in the order a check runs them. */
export const MONITOR_KINDS = [
  "probe",
  "confidence",
  "data_quality",
  "drift",
  "multivariate",
  "performance",
] as const;
/** A monitor kind. */
export type MonitorKind = (typeof MONITOR_KINDS)[number];

/**
 * The dead-man's switch's name in `monitor_runs` and in alert fingerprints (model + `deadman` +
 * the silent monitor's kind, or `traffic`); it is not a monitor kind of the config.
 */
export const DEADMAN_MONITOR = "deadman";

/** What started a run. */
export type RunTrigger = "schedule" | "manual" | "realtime";

/** One problem a run found; becomes an AlertSignal. */
export interface Finding {
  /** What it is about within the monitor: a feature, `prediction`, `dataset`, `low_confidence`, `latency`… */
  subject: string;
  /** The rule that made it; `alerting.severity` maps it to a level. */
  severityRule: SeverityRule;
  title: string;
  /** The numbers behind it. */
  metrics: Record<string, number | string | null>;
  /** The rule that fired, in words, naming fixed or learned thresholds. */
  rule: string;
}

/** What a monitor hands back before it is recorded. */
export interface MonitorOutcome {
  status: "ok" | "alert" | "skipped" | "error";
  window: { from: Date; to: Date } | null;
  rows: number;
  labelledRows?: number | null;
  metrics: Record<string, unknown>;
  /** The rule applied, in words. */
  rule: string;
  findings: Finding[];
  /** Why a run was skipped or failed. */
  note?: string;
  /**
   * Charts of what the run measured, by finding subject (a drifted feature's distributions),
   * for the finding's incident thread. Not stored with the run.
   */
  evidence?: Record<string, ChartSpec[]>;
}

/** A recorded run. */
export interface MonitorRun extends MonitorOutcome {
  id: number;
  model: string;
  monitor: MonitorKind;
  trigger: RunTrigger;
  profileId: number | null;
  startedAt: Date;
  durationMs: number;
}

/** The config block of a monitor kind for a model, or undefined when the monitor is off. */
export function monitorConfig<K extends MonitorKind>(
  model: ModelConfig,
  kind: K,
): NonNullable<ModelConfig["monitors"][K]> | undefined {
  return model.monitors[kind] ?? undefined;
}

/** The monitors configured for a model, in check order. */
export function configuredMonitors(model: ModelConfig): MonitorKind[] {
  return MONITOR_KINDS.filter((k) => model.monitors[k] !== undefined);
}

/** Status of an outcome from its findings. */
export function statusOf(findings: readonly Finding[]): "ok" | "alert" {
  return findings.length > 0 ? "alert" : "ok";
}

/** Subjects that fired last time and pass now: each gets a resolved signal. */
export function resolvedSubjects(
  previous: readonly Finding[] | undefined,
  current: MonitorOutcome,
): string[] {
  if (!previous?.length || current.status === "error" || current.status === "skipped") return [];
  const now = new Set(current.findings.map((f) => f.subject));
  return [...new Set(previous.map((f) => f.subject))].filter((s) => !now.has(s));
}

/** Rounds a number for display and storage of metrics (6 significant digits). */
export function round(x: number | null | undefined): number | null {
  if (x === null || x === undefined || !Number.isFinite(x))
    return x === Number.POSITIVE_INFINITY ? Number.MAX_VALUE : null;
  return Number(x.toPrecision(6));
}

/**
 * The severity of a finding for a model: the model's `severity` override of its rule, else
 * `alerting.severity`. A finding stored before rules had names (an older run's, resolving now)
 * keeps the level it was stored with.
 */
export function severityOf(
  config: Pick<MlopsConfig, "alerting" | "models">,
  model: string,
  finding: Pick<Finding, "severityRule"> & { severity?: unknown },
): Severity {
  const rule = finding.severityRule;
  if (!rule || !(rule in SEVERITY_RULES)) {
    const stored = finding.severity;
    return stored === "critical" || stored === "info" ? stored : "warning";
  }
  const own = config.models.find((m) => m.slug === model)?.severity?.[rule];
  return own ?? config.alerting.severity[rule];
}
