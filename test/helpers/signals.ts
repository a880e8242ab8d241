import type { AlertSignal } from "../../src/shared/alert-signal.js";

/** A drift finding on `subject` as the drift monitor emits it (PSI 0.34 against a 0.2 threshold). */
export function driftFinding(subject: string, over: Partial<AlertSignal> = {}): AlertSignal {
  return {
    source: "monitor",
    model: "fraud-detector",
    modelVersion: "v1",
    monitor: "drift",
    subject,
    status: "firing",
    severity: "warning",
    title: `Drift in ${subject}: PSI 0.34`,
    summary: `The distribution of \`${subject}\` moved away from the reference window.`,
    metrics: { psi: 0.34, threshold: 0.2 },
    rule: "PSI >= 0.2 (fixed threshold)",
    observedAt: new Date(),
    ...over,
  };
}

/** A minimal Alertmanager webhook body (version 4) with one firing alert for the demo model, started now. */
export function alertmanagerFiring(alertname: string, severity: string, summary: string) {
  return {
    version: "4",
    status: "firing",
    receiver: "mlops-bot",
    alerts: [
      {
        status: "firing",
        labels: { alertname, model: "fraud-detector", severity },
        annotations: { summary },
        startsAt: new Date().toISOString(),
        endsAt: "0001-01-01T00:00:00Z",
      },
    ],
  };
}
