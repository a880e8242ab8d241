import { describe, expect, it } from "vitest";
import type { Alert, Incident, IncidentEvent } from "../../src/incidents/index.js";
import { dataFromOf, reviewFileName, reviewMarkdown } from "../../src/incidents/index.js";

const T0 = Date.parse("2026-11-30T10:00:00Z");
const MIN = 60_000;
const at = (minutes: number) => new Date(T0 + minutes * MIN);

const incident: Incident = {
  id: 12,
  fingerprint: "fp",
  alertId: 3,
  model: "fraud-detector",
  monitor: "confidence",
  subject: "low_confidence",
  modelVersion: "v2",
  title: "Low confidence | 41% of predictions",
  severity: "critical",
  severitySetBy: null,
  state: "resolved",
  channel: "C1",
  cardOutboxId: 1,
  assignee: "U0DANA",
  openedAt: at(0),
  acknowledgedAt: at(4),
  acknowledgedBy: "U0DANA",
  mitigatedAt: at(50),
  mitigatedBy: "U0MAYA",
  resolvedAt: at(90),
  resolvedBy: "U0MAYA",
  resolution: "rolled back to v1\nand retrained",
  alertCount: 6,
  lastFiredAt: at(40),
  pendingFirings: 0,
  lastNoteAt: null,
  nextReminderAt: null,
  lastUpdateAt: null,
  updateDueAt: null,
};

const alert: Alert = {
  id: 3,
  fingerprint: "fp",
  model: "fraud-detector",
  monitor: "confidence",
  subject: "low_confidence",
  source: "monitor",
  state: "firing",
  severity: "critical",
  modelVersion: "v2",
  title: incident.title,
  summary: "",
  rule: "latest",
  metrics: { low_share: 0.05 },
  labels: {},
  monitorRunId: null,
  firstSeenAt: at(0),
  lastSeenAt: at(40),
  resolvedAt: null,
  fireCount: 6,
};

let seq = 0;
const event = (
  minutes: number,
  kind: string,
  actor: string,
  detail: Record<string, unknown> = {},
): IncidentEvent => ({
  id: ++seq,
  incidentId: 12,
  at: at(minutes),
  kind,
  actor,
  via: "command",
  detail,
  outboxId: null,
});

const NAMES: Record<string, string> = { U0DANA: "Dana", U0MAYA: "Maya", U0DEV: "Dev" };
const nameOf = (id: string) => NAMES[id] ?? id;

describe("the review draft", () => {
  const timeline = [
    event(0, "opened", "monitor", {
      rule: "low share <= 0.2",
      metrics: { low_share: 0.41, rows: 1200 },
      dataFrom: at(-60).toISOString(),
    }),
    event(1, "paged", "system", {
      tier: 2,
      group: "ds-oncall",
      members: ["U0DANA", "U0DEV"],
      reason: "open",
    }),
    event(4, "acknowledged", "U0DANA", { from: "open", to: "acknowledged" }),
    event(20, "paged", "system", { tier: 3, group: "fraud-ml-team", members: ["U0MAYA"], reason: "manual" }),
    event(30, "retrain_requested", "U0MAYA", { target: "fraud-detector", request: 4 }),
    event(45, "candidate_reported", "ci", { target: "fraud-detector", version: "v3", auc: 0.91234 }),
    event(50, "mitigated", "U0MAYA", { from: "acknowledged", to: "mitigated" }),
    event(60, "followup_added", "U0DEV", { text: "pin | the feature\nschema" }),
  ];
  const md = reviewMarkdown({ incident, alert, modelName: "Fraud detector", timeline, nameOf });

  it("measures detect from the data window's start and the other stages from the opening, with who", () => {
    expect(dataFromOf(timeline)?.toISOString()).toBe("2026-11-30T09:00:00.000Z");
    expect(md).toContain("| detect | 2026-11-30 10:00:00 UTC | 1h after the bad data began | monitor |");
    expect(md).toContain("| acknowledge | 2026-11-30 10:04:00 UTC | 4m | Dana |");
    expect(md).toContain("| mitigate | 2026-11-30 10:50:00 UTC | 50m | Maya |");
    expect(md).toContain("| resolve | 2026-11-30 11:30:00 UTC | 1h 30m | Maya |");
    // From the first bad data to the end.
    expect(md).toContain("- **Length:** 2h 30m");
  });

  it("says which page was answered, by whom and how fast, and which was not", () => {
    expect(md).toContain(
      "- 2026-11-30 10:01:00 UTC: paged L2 @ds-oncall (Dana, Dev), open; answered by Dana at 2026-11-30 10:04:00 UTC, after 3m.",
    );
    expect(md).toContain("- 2026-11-30 10:20:00 UTC: paged L3 @fraud-ml-team (Maya), manual; not answered.");
  });

  it("names who was on call in the schedule, what each pager was told, and where the answer came from", () => {
    const paging = [
      event(0, "opened", "monitor", { rule: "r", metrics: {} }),
      event(1, "paged", "system", {
        tier: 2,
        group: "ds-oncall",
        members: ["U0DEV"],
        reason: "open",
        schedule: "ds-oncall",
        onCall: "U0DEV",
      }),
      event(6, "pager_sent", "system", { what: "PagerDuty (pd): trigger for L2 accepted" }),
      event(7, "pager_failed", "system", { what: "Opsgenie (og): trigger failed (HTTP 503); retrying" }),
      event(8, "acknowledged", "U0DEV", { from: "open", to: "acknowledged", answeredFrom: "PagerDuty" }),
    ];
    const out = reviewMarkdown({ incident, alert, modelName: "Fraud detector", timeline: paging, nameOf });
    expect(out).toContain(
      "- 2026-11-30 10:01:00 UTC: paged L2 @ds-oncall (Dev), open, on call in ds-oncall: Dev; answered by Dev from PagerDuty at 2026-11-30 10:08:00 UTC, after 7m.",
    );
    expect(out).toContain("- 2026-11-30 10:06:00 UTC: PagerDuty (pd): trigger for L2 accepted.");
    expect(out).toContain("- 2026-11-30 10:07:00 UTC: Opsgenie (og): trigger failed (HTTP 503); retrying.");
  });

  it("lists retraining steps with their numbers, the numbers that fired, and keeps free text on one line", () => {
    expect(md).toContain(
      "- 2026-11-30 10:30:00 UTC: retrain requested by Maya (target fraud-detector, request 4).",
    );
    for (const line of [
      "candidate reported by ci (target fraud-detector, version v3, auc 0.912).",
      "| low_share | 0.41 |",
      "| rows | 1200 |",
      "rolled back to v1 and retrained",
      "- [ ] pin \\| the feature schema (added by Dev, 2026-11-30 11:00:00 UTC)",
      "# INC-12 post-incident review: Low confidence \\| 41% of predictions",
      "No runbook was run.",
    ])
      expect(md).toContain(line);
    expect(reviewFileName(12)).toBe("INC-12-review.md");
  });

  it("without a data window, detect is not measurable; before the resolve, it says so", () => {
    const open = reviewMarkdown({
      incident: { ...incident, state: "acknowledged", mitigatedAt: null, resolvedAt: null, resolvedBy: null },
      alert,
      modelName: "Fraud detector",
      timeline: [event(0, "opened", "alertmanager", { rule: "up == 0", metrics: {} })],
      nameOf,
    });
    expect(open).toContain(
      "| detect | 2026-11-30 10:00:00 UTC | not measurable (no data window) | alertmanager |",
    );
    for (const line of [
      "not known (the detector has no data window)",
      "| resolve | — | not reached | — |",
      "Not resolved yet.",
      "Nobody was paged.",
      "No retraining.",
      "None yet.",
    ])
      expect(open).toContain(line);
  });
});
