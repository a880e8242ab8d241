/**
 * A per-segment run adds what the model as a whole does not show: when a subject fired globally in
 * the same run (a drift everywhere), the segments repeating it are counted as covered, not raised
 * as members of their own; a subject only a segment shows is still raised with its segment.
 */
import { describe, expect, it } from "vitest";
import type { Finding, MonitorOutcome } from "../../src/monitoring/model.js";
import type { MonitorContext } from "../../src/monitoring/monitors/context.js";
import { type SegmentResult, withSegments } from "../../src/monitoring/segments.js";

const finding = (subject: string): Finding => ({
  subject,
  severityRule: "drift_feature",
  title: `Drift in ${subject}`,
  metrics: { value: 0.3 },
  rule: "PSI >= 0.2",
});

const outcome = (subjects: string[]): MonitorOutcome => ({
  status: subjects.length ? "alert" : "ok",
  window: { from: new Date(0), to: new Date(3_600_000) },
  rows: 500,
  metrics: {},
  rule: "PSI >= 0.2",
  findings: subjects.map(finding),
  evidence: Object.fromEntries(subjects.map((s) => [s, []])),
});

const ctx = {
  model: { id: 1, slug: "m", features: [{ name: "country", type: "categorical", slot: 0 }] },
  windows: {},
  previous: null,
} as unknown as MonitorContext;

/** What each segment's own run finds (as the monitor would on that segment's rows). */
async function run(global: string[], perSegment: Record<string, string[]>): Promise<MonitorOutcome> {
  return withSegments(ctx, "drift", outcome(global), Object.keys(perSegment), async (c) =>
    outcome(perSegment[c.segment?.key as string] ?? []),
  );
}

describe("segment findings next to the global ones", () => {
  it("a drift everywhere raises the global finding once; each segment counts it as covered", async () => {
    const out = await run(["amount"], {
      "country=DE": ["amount"],
      "country=IT": ["amount"],
      "country=FR": ["amount"],
    });
    expect(out.findings.map((f) => f.subject)).toEqual(["amount"]);
    expect(Object.keys(out.evidence ?? {})).toEqual(["amount"]);
    const segments = out.metrics.segments as Record<string, SegmentResult>;
    expect(segments["country=DE"]).toMatchObject({ findings: 0, covered_by_global: 1 });
    expect(out.status).toBe("alert");
  });

  it("a subject only a segment shows is raised, named after its segment, beside a covered one", async () => {
    const out = await run(["amount"], {
      "country=DE": ["amount"],
      "country=IT": ["amount", "channel"],
    });
    expect(out.findings.map((f) => f.subject)).toEqual(["amount", "channel @ country=IT"]);
    expect(out.findings[1]?.title).toBe("Drift in channel (segment country=IT)");
    const segments = out.metrics.segments as Record<string, SegmentResult>;
    expect(segments["country=IT"]).toMatchObject({ findings: 1, covered_by_global: 1 });
    expect(Object.keys(out.evidence ?? {})).toEqual(["amount", "channel @ country=IT"]);
  });

  it("with nothing global, every segment finding is raised", async () => {
    const out = await run([], { "country=DE": [], "country=IT": ["amount"] });
    expect(out.findings.map((f) => f.subject)).toEqual(["amount @ country=IT"]);
    expect(out.status).toBe("alert");
    expect((out.metrics.segments as Record<string, SegmentResult>)["country=IT"]?.covered_by_global).toBe(
      undefined,
    );
  });
});
