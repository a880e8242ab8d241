import { describe, expect, it } from "vitest";
import { approvalStatus, evaluateCandidate } from "../../src/retraining/index.js";
import { demoConfig } from "../helpers/bot.js";

const rules = demoConfig().models[0]?.retraining;
if (!rules) throw new Error("the demo model has a retraining section");

describe("the rules a candidate must clear", () => {
  const champion = { f1: 0.8, latency_p95_ms: 40, fpr_gap: 0.02 };

  it("a primary gain over the minimum with guard-rails inside their margins passes", () => {
    const r = evaluateCandidate(rules, { f1: 0.82, latency_p95_ms: 49, fpr_gap: 0.029 }, champion);
    expect(r.passes).toBe(true);
    expect(r.checks.map((c) => [c.metric, c.passes])).toEqual([
      ["f1", true],
      ["latency_p95_ms", true],
      ["fpr_gap", true],
    ]);
  });

  it("a gain under min_gain fails the primary metric", () => {
    const r = evaluateCandidate(rules, { f1: 0.805, latency_p95_ms: 40, fpr_gap: 0.02 }, champion);
    expect(r.passes).toBe(false);
    expect(r.verdict).toContain("f1");
  });

  it("a guard-rail worse than its margin (latency, fairness) fails even with a big gain", () => {
    const r = evaluateCandidate(rules, { f1: 0.9, latency_p95_ms: 51, fpr_gap: 0.031 }, champion);
    expect(r.passes).toBe(false);
    expect(r.checks.filter((c) => !c.passes).map((c) => c.metric)).toEqual(["latency_p95_ms", "fpr_gap"]);
  });
});

describe("who must approve", () => {
  it("the requester alone is never enough, even when one approval is required", () => {
    const s = approvalStatus([{ userId: "U0DANA", decision: "approve" }], 1, "U0DANA");
    expect(s.satisfied).toBe(false);
    expect(s.missing).toContain("someone other than the requester");
  });

  it("the requester and one other person make two approvals", () => {
    const s = approvalStatus(
      [
        { userId: "U0DANA", decision: "approve" },
        { userId: "U0MAYA", decision: "approve" },
      ],
      2,
      "U0DANA",
    );
    expect(s.satisfied).toBe(true);
  });

  it("one approver short of N is not enough, whoever they are", () => {
    const s = approvalStatus([{ userId: "U0MAYA", decision: "approve" }], 2, "U0DANA");
    expect(s).toMatchObject({ satisfied: false, missing: "1 more approval" });
  });
});
