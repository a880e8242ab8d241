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
