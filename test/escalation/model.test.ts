import { describe, expect, it } from "vitest";
import {
  decideDeadline,
  type EscalationPolicy,
  escalateRefusal,
  highestTier,
  policyFor,
} from "../../src/escalation/index.js";
import { escalationConfig } from "./helpers.js";

const MIN = 60_000;
const T0 = new Date("2030-01-01T12:00:00Z");
const at = (ms: number) => new Date(T0.getTime() + ms);

function policy(over: Record<string, unknown> = {}): EscalationPolicy {
  return policyFor(
    escalationConfig({ default: { l1: { wait: "5m" }, l2: { wait: "15m" }, ...over } }),
    "fraud-detector",
  );
}

const open = { state: "open" as const, acknowledgedAt: null };
const row = (over: Partial<Parameters<typeof decideDeadline>[0]> = {}) => ({
  tier: 1,
  pagesAtTier: 1,
  tierSince: T0,
  pageAckedAt: null,
  nextKind: "escalate" as const,
  ...over,
});

describe("the policy a model gets", () => {
  it("without an escalation section: L1 operators 15m, L2 data scientists 30m with DMs, L3 the owners", () => {
    const config = escalationConfig({});
    const p = policyFor(config, "fraud-detector");
    expect(p.tiers[1]).toEqual({ group: "l1", waitMs: 15 * MIN, repeat: 0, dm: false, channel: null });
    expect(p.tiers[2]).toEqual({ group: "l2", waitMs: 30 * MIN, repeat: 0, dm: true, channel: null });
    expect(p.tiers[3]).toMatchObject({ group: "fraud-ml", waitMs: 60 * MIN, dm: true });
    expect(p.auto).toBe(true);
    expect(p.remindEveryMs).toBeNull();
  });

  it("a model's override replaces only the fields it names", () => {
    const config = escalationConfig({
      default: { l2: { wait: "15m" } },
      models: { "fraud-detector": { l2: { repeat: 2 }, remind_every: "1h" } },
    });
    const p = policyFor(config, "fraud-detector");
    expect(p.tiers[2]).toEqual({ group: "l2", waitMs: 15 * MIN, repeat: 2, dm: true, channel: null });
    expect(p.remindEveryMs).toBe(60 * MIN);
  });

  it("rejects a policy naming an unknown group or model", () => {
    expect(() => escalationConfig({ default: { l2: { group: "nobody" } } })).toThrow(
      /unknown user group 'nobody'/,
    );
    expect(() => escalationConfig({ models: { ghost: { auto: false } } })).toThrow(/unknown model 'ghost'/);
  });
});

describe("who may escalate", () => {
  const p = policy();
  it("the current tier or a higher one; nobody outside the tiers", () => {
    expect(highestTier(p, ["l1"])).toBe(1);
    expect(highestTier(p, ["l1", "fraud-ml"])).toBe(3);
    expect(escalateRefusal(1, 1)).toBeUndefined();
    expect(escalateRefusal(2, 3)).toBeUndefined();
    expect(escalateRefusal(2, 1)).toMatch(/you are in L1; from L2 that takes L2 or a higher tier/);
    expect(escalateRefusal(1, 0)).toMatch(/member of L1 or a higher tier/);
  });
});

describe("what a due deadline does", () => {
  it("unacknowledged: L1 → L2 with L2's wait; L2 → L3; after L3 the timer stops", () => {
    const p = policy();
    expect(decideDeadline(row(), p, open, at(5 * MIN))).toEqual({
      kind: "escalate",
      tier: 2,
      nextAt: at(20 * MIN),
    });
    expect(decideDeadline(row({ tier: 2 }), p, open, at(20 * MIN))).toMatchObject({
      kind: "escalate",
      tier: 3,
    });
    expect(decideDeadline(row({ tier: 3 }), p, open, at(90 * MIN))).toEqual({ kind: "exhausted" });
  });

  it("a tier with repeats is paged again before the next tier", () => {
    const p = policy({ l2: { wait: "15m", repeat: 1 } });
    expect(decideDeadline(row({ tier: 2, pagesAtTier: 1 }), p, open, at(15 * MIN))).toEqual({
      kind: "repeat",
      tier: 2,
      nextAt: at(30 * MIN),
    });
    expect(decideDeadline(row({ tier: 2, pagesAtTier: 2 }), p, open, at(30 * MIN))).toMatchObject({
      kind: "escalate",
      tier: 3,
    });
  });

  it("acknowledged since the tier was paged stops it, or reminds when the policy says so", () => {
    const acked = { state: "acknowledged" as const, acknowledgedAt: at(MIN) };
    expect(decideDeadline(row(), policy(), acked, at(5 * MIN))).toEqual({ kind: "stop", why: "answered" });
    expect(decideDeadline(row(), policy({ remind_every: "30m" }), acked, at(5 * MIN))).toEqual({
      kind: "remind",
      nextAt: at(35 * MIN),
    });
    // An acknowledgement from before a manual escalation does not answer the new tier's page …
    const older = row({ tier: 2, tierSince: at(10 * MIN) });
    expect(decideDeadline(older, policy(), acked, at(25 * MIN))).toMatchObject({ kind: "escalate", tier: 3 });
    // … an acknowledgement of that page does.
    expect(decideDeadline({ ...older, pageAckedAt: at(12 * MIN) }, policy(), acked, at(25 * MIN))).toEqual({
      kind: "stop",
      why: "answered",
    });
  });

  it("resolved stops; auto off only escalates by hand", () => {
    expect(decideDeadline(row(), policy(), { state: "resolved", acknowledgedAt: null }, at(5 * MIN))).toEqual(
      {
        kind: "stop",
        why: "resolved",
      },
    );
    expect(decideDeadline(row(), policy({ auto: false }), open, at(5 * MIN))).toEqual({
      kind: "stop",
      why: "manual_only",
    });
  });
});
