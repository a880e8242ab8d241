import type { ChartSpec } from "../charts/spec.js";

/**
 * A problem a detector saw (or saw end), handed to the alerting hub. Monitors, the Alertmanager
 * webhook and people all speak this one shape; the hub turns it into alerts and incidents.
 * The fingerprint of the problem is model + monitor + subject.
 */
export interface AlertSignal {
  source: "monitor" | "alertmanager" | "manual";
  /** Model slug. */
  model: string;
  modelVersion?: string;
  /** What detected it: drift, confidence, data_quality, performance, probe, or an Alertmanager alertname. */
  monitor: string;
  /** What it is about within the monitor: a feature name, `prediction`, `dataset`, `latency`, … */
  subject: string;
  status: "firing" | "resolved";
  severity: "info" | "warning" | "critical";
  /** One line for the card title, e.g. "Drift in amount: PSI 0.34". */
  title: string;
  /** Detail in Slack mrkdwn. */
  summary: string;
  /** The numbers behind it, by name. */
  metrics: Record<string, number | string | null>;
  /** The rule that fired, in words, e.g. "PSI >= 0.2 (fixed threshold)". */
  rule: string;
  observedAt: Date;
  /**
   * When the bad data began as far as the detector can tell: the start of the window (or bucket)
   * whose data crossed the threshold. Time to detect runs from here to the incident's opening.
   */
  dataFrom?: Date;
  /** The monitor run that produced it, when there is one. */
  monitorRunId?: number;
  labels?: Record<string, string>;
  /**
   * Charts for the incident's thread, posted when this signal opens an incident. Only detectors
   * inside the bot set them (the HTTP intake never reads them from a request).
   */
  charts?: ChartSpec[];
}

/** The monitor run a batch of signals comes from. */
export interface MonitorRunRef {
  model: string;
  monitor: string;
  runId: number;
}

/** Where detectors send signals; the incidents feature provides the real one. */
export interface AlertSink {
  /**
   * Hands over signals. `run` is given by a monitor for each decisive run (even one without
   * signals): the hub counts it as a clean run for the members of that monitor that recovered,
   * which is how an incident resolves after `alerting.resolve_after` clean runs.
   */
  emit(signals: AlertSignal[], run?: MonitorRunRef): Promise<void>;
}
