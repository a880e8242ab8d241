import { describe, expect, it } from "vitest";
import {
  alertmanagerFingerprint,
  alertmanagerPayloadSchema,
  signalsFromAlertmanager,
} from "../../src/http/alertmanager.js";

const now = new Date("2030-01-02T00:00:00Z");

function payload(alerts: unknown[]) {
  return alertmanagerPayloadSchema.parse({ version: "4", status: "firing", alerts, somethingNew: [1, 2] });
}

describe("Alertmanager alerts as signals", () => {
  it("the model comes from the configured label, the monitor from alertname, the subject from the fingerprint", () => {
    const labels = {
      alertname: "DriftHigh",
      ml_model: "fraud-detector",
      severity: "page",
      feature: "amount",
    };
    const { signals, issues } = signalsFromAlertmanager(
      payload([
        { status: "firing", labels, startsAt: "2030-01-01T10:00:00Z", endsAt: "0001-01-01T00:00:00Z" },
      ]),
      "ml_model",
      ["fraud-detector"],
      now,
    );
    expect(issues).toEqual([]);
    expect(signals).toEqual([
      expect.objectContaining({
        source: "alertmanager",
        model: "fraud-detector",
        monitor: "DriftHigh",
        subject: alertmanagerFingerprint(labels),
        status: "firing",
        severity: "critical",
        title: "DriftHigh",
        observedAt: new Date("2030-01-01T10:00:00Z"),
        labels,
      }),
    ]);
  });

  it("a resolved alert is observed at its end; severities map to ours; annotations are escaped", () => {
    const { signals } = signalsFromAlertmanager(
      payload([
        {
          status: "resolved",
          labels: { alertname: "A", model: "m", severity: "info" },
          annotations: { summary: "All <good>", description: "x > y & z", value: "n/a" },
          startsAt: "2030-01-01T10:00:00Z",
          endsAt: "2030-01-01T10:30:00+01:00",
          fingerprint: "00000000000000ab",
        },
      ]),
      "model",
      ["m"],
      now,
    );
    expect(signals[0]).toMatchObject({
      status: "resolved",
      severity: "info",
      subject: "00000000000000ab",
      title: "All <good>",
      summary: "x &gt; y &amp; z",
      metrics: { value: "n/a" },
      observedAt: new Date("2030-01-01T09:30:00Z"),
    });
  });

  it("alerts that name no configured model are reported by index", () => {
    const { signals, issues } = signalsFromAlertmanager(
      payload([
        { status: "firing", labels: { alertname: "A" }, startsAt: "2030-01-01T10:00:00Z" },
        { status: "firing", labels: { alertname: "B", model: "other" }, startsAt: "2030-01-01T10:00:00Z" },
      ]),
      "model",
      ["m"],
      now,
    );
    expect(signals).toEqual([]);
    expect(issues.map((i) => i.path)).toEqual(["alerts.0.labels.model", "alerts.1.labels.model"]);
  });
});
