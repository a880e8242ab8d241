import { describe, expect, it } from "vitest";
import { alertmanagerFingerprint } from "../../src/http/alertmanager.js";
import {
  fingerprintOf,
  formatRef,
  heldFiringsDue,
  INCIDENT_STATES,
  type Incident,
  type IncidentEvent,
  onRepeatFiring,
  parseRef,
  parseSilenceDuration,
  parseSilenceTarget,
  silenceActive,
  silenceMatches,
  summarizeResolution,
  transition,
} from "../../src/incidents/index.js";

const policy = {
  groupWaitMs: 0,
  groupIntervalMs: 60_000,
  repeatIntervalMs: 4 * 3_600_000,
  resolveWithAlert: true,
};
const t0 = new Date("2030-01-01T12:00:00Z");
const at = (ms: number) => new Date(t0.getTime() + ms);

describe("the incident state machine", () => {
  it("acknowledge moves open to acknowledged and nothing else", () => {
    expect(transition("open", "acknowledge")).toEqual({ ok: true, to: "acknowledged" });
    for (const state of ["acknowledged", "mitigated", "resolved"] as const) {
      expect(transition(state, "acknowledge")).toEqual({ ok: false, reason: `it is already ${state}` });
    }
  });

  it("mitigate leaves open or acknowledged; resolve leaves any unresolved state; resolved is final", () => {
    expect(transition("open", "mitigate")).toEqual({ ok: true, to: "mitigated" });
    expect(transition("acknowledged", "mitigate")).toEqual({ ok: true, to: "mitigated" });
    expect(transition("mitigated", "mitigate").ok).toBe(false);
    for (const state of ["open", "acknowledged", "mitigated"] as const) {
      expect(transition(state, "resolve")).toEqual({ ok: true, to: "resolved" });
    }
    for (const action of ["acknowledge", "mitigate", "resolve"] as const) {
      expect(transition("resolved", action).ok).toBe(false);
    }
  });

  it("every state is reachable from open", () => {
    const reached = new Set<string>(["open"]);
    for (let round = 0; round < 3; round++) {
      for (const state of [...reached]) {
        for (const action of ["acknowledge", "mitigate", "resolve"] as const) {
          const r = transition(state as (typeof INCIDENT_STATES)[number], action);
          if (r.ok) reached.add(r.to);
        }
      }
    }
    expect([...reached].sort()).toEqual([...INCIDENT_STATES].sort());
  });
});

describe("incident references", () => {
  it("INC-<n> round-trips and tolerates case and a missing dash; anything else is refused", () => {
    expect(formatRef(42)).toBe("INC-42");
    expect(parseRef("INC-42")).toBe(42);
    expect(parseRef("inc42")).toBe(42);
    expect(parseRef("42")).toBe(42);
    for (const bad of ["INC-", "INC-0", "INC-4x", "SIL-3", "", "INC--1"])
      expect(parseRef(bad)).toBeUndefined();
  });
});

describe("fingerprints", () => {
  it("the same model, monitor and subject always give the same fingerprint; any change gives another", () => {
    const a = fingerprintOf({ model: "fraud-detector", monitor: "drift", subject: "amount" });
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(fingerprintOf({ model: "fraud-detector", monitor: "drift", subject: "amount" })).toBe(a);
    expect(fingerprintOf({ model: "fraud-detector", monitor: "drift", subject: "country" })).not.toBe(a);
    // The separator keeps "a"+"bc" apart from "ab"+"c".
    expect(fingerprintOf({ model: "m", monitor: "a", subject: "bc" })).not.toBe(
      fingerprintOf({ model: "m", monitor: "ab", subject: "c" }),
    );
  });

  it("Alertmanager's label fingerprint matches its documented example", () => {
    expect(alertmanagerFingerprint({ job: "foo", severity: "warning" })).toBe("9266ef3da838ad95");
    expect(alertmanagerFingerprint({ severity: "warning", job: "foo" })).toBe("9266ef3da838ad95");
  });
});

describe("the notification policy", () => {
  it("the first repeat firing is replied at once; the next within group_interval is held and counted", () => {
    expect(onRepeatFiring({ lastNoteAt: null, pendingFirings: 0 }, t0, policy)).toEqual({
      reply: true,
      firings: 1,
    });
    expect(onRepeatFiring({ lastNoteAt: t0, pendingFirings: 0 }, at(30_000), policy)).toEqual({
      reply: false,
      firings: 1,
    });
    expect(onRepeatFiring({ lastNoteAt: t0, pendingFirings: 4 }, at(60_000), policy)).toEqual({
      reply: true,
      firings: 5,
    });
  });

  it("held firings are due once group_interval has passed since the last reply, and only when there are some", () => {
    expect(heldFiringsDue({ lastNoteAt: t0, pendingFirings: 3 }, at(59_999), policy)).toBe(false);
    expect(heldFiringsDue({ lastNoteAt: t0, pendingFirings: 3 }, at(60_000), policy)).toBe(true);
    expect(heldFiringsDue({ lastNoteAt: t0, pendingFirings: 0 }, at(600_000), policy)).toBe(false);
  });
});

describe("silences", () => {
  const alert = { model: "fraud-detector", monitor: "drift", fingerprint: "abc" };
  it("match by model, by model and monitor, or by fingerprint; unset matchers match anything", () => {
    expect(silenceMatches({ model: "fraud-detector", monitor: null, fingerprint: null }, alert)).toBe(true);
    expect(silenceMatches({ model: "fraud-detector", monitor: "drift", fingerprint: null }, alert)).toBe(
      true,
    );
    expect(silenceMatches({ model: "fraud-detector", monitor: "probe", fingerprint: null }, alert)).toBe(
      false,
    );
    expect(silenceMatches({ model: null, monitor: null, fingerprint: "abc" }, alert)).toBe(true);
    expect(silenceMatches({ model: "other", monitor: null, fingerprint: "abc" }, alert)).toBe(false);
  });

  it("are active from start until their end or until ended by hand", () => {
    const s = { startsAt: t0, endsAt: at(3_600_000), endedAt: null };
    expect(silenceActive(s, at(-1))).toBe(false);
    expect(silenceActive(s, t0)).toBe(true);
    expect(silenceActive(s, at(3_600_000))).toBe(false);
    expect(silenceActive({ ...s, endedAt: at(10) }, at(20))).toBe(false);
  });

  it("targets and durations parse, and bad ones say what is wrong", () => {
    expect(parseSilenceTarget("INC-7")).toEqual({ kind: "incident", incidentId: 7 });
    expect(parseSilenceTarget("fraud-detector")).toEqual({
      kind: "model",
      model: "fraud-detector",
      monitor: null,
    });
    expect(parseSilenceTarget("fraud-detector/drift")).toEqual({
      kind: "model",
      model: "fraud-detector",
      monitor: "drift",
    });
    expect(parseSilenceTarget("Fraud Detector")).toBeUndefined();
    expect(parseSilenceDuration("2h", 86_400_000)).toEqual({ ms: 7_200_000 });
    expect(parseSilenceDuration("soon", 86_400_000)).toEqual({
      error: expect.stringContaining("not a duration"),
    });
    expect(parseSilenceDuration("30s", 86_400_000)).toEqual({ error: "a silence lasts at least 1m" });
    expect(parseSilenceDuration("2d", 86_400_000)).toEqual({ error: expect.stringContaining("at most 1d") });
  });
});

describe("the resolution summary", () => {
  it("says how long it took, who resolved it and what each person did, once per kind of action", () => {
    const incident = {
      id: 3,
      openedAt: t0,
      resolvedAt: at(2 * 3_600_000 + 5 * 60_000),
      resolvedBy: "U0OLIVIA",
      resolution: "rolled back the feature pipeline",
      alertCount: 4,
      lastFiredAt: at(60_000),
    } as Incident;
    const ev = (kind: string, actor: string) => ({ kind, actor }) as IncidentEvent;
    const summary = summarizeResolution(incident, [
      ev("opened", "monitor"),
      ev("alert_fired", "monitor"),
      ev("acknowledged", "U0DANA"),
      ev("unchanged", "U0DEV"),
      ev("silenced", "U0DANA"),
      ev("runbook_run", "U0OLIVIA"),
      ev("resolved", "U0OLIVIA"),
    ]);
    expect(summary).toEqual({
      ref: "INC-3",
      duration: "2h 5m",
      resolvedBy: "U0OLIVIA",
      resolution: "rolled back the feature pipeline",
      firings: 4,
      contributions: ["<@U0DANA>: acknowledged, silenced", "<@U0OLIVIA>: runbook run, resolved"],
    });
  });
});
