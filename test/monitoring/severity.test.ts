import { describe, expect, it } from "vitest";
import { configSchema } from "../../src/config/index.js";
import { policyFor } from "../../src/escalation/index.js";
import { severityOf } from "../../src/monitoring/model.js";
import { demoConfig, oneModelConfigInput } from "../helpers/bot.js";

/** A small config (one model) with `extra` sections and `modelExtra` fields of its model. */
function parse(extra: Record<string, unknown>, modelExtra: Record<string, unknown> = {}) {
  return configSchema.safeParse(oneModelConfigInput(extra, modelExtra));
}

describe("severity of a monitor rule", () => {
  it("defaults: probe down and confidence collapse critical, drift and quality warning, low-share single-feature drift info", () => {
    const parsed = parse({});
    if (!parsed.success) throw parsed.error;
    const level = (rule: Parameters<typeof severityOf>[2]["severityRule"]) =>
      severityOf(parsed.data, "fraud-detector", { severityRule: rule });
    expect(level("probe_down")).toBe("critical");
    expect(level("confidence_collapse")).toBe("critical");
    expect(level("confidence_low")).toBe("warning");
    expect(level("drift_dataset")).toBe("warning");
    expect(level("drift_feature")).toBe("warning");
    expect(level("drift_feature_low_share")).toBe("info");
    for (const rule of [
      "quality_volume",
      "quality_schema",
      "quality_missing",
      "quality_range",
      "quality_unseen",
    ] as const)
      expect(level(rule)).toBe("warning");
  });

  it("alerting.severity sets a rule, and a model's own severity overrides it for that model only", () => {
    const parsed = parse(
      { alerting: { severity: { drift_feature_low_share: "warning", quality_volume: "critical" } } },
      { severity: { quality_volume: "info" } },
    );
    if (!parsed.success) throw parsed.error;
    expect(severityOf(parsed.data, "fraud-detector", { severityRule: "drift_feature_low_share" })).toBe(
      "warning",
    );
    expect(severityOf(parsed.data, "fraud-detector", { severityRule: "quality_volume" })).toBe("info");
    expect(severityOf(parsed.data, "another-model", { severityRule: "quality_volume" })).toBe("critical");
  });

  it("a finding stored before rules had names keeps its stored level", () => {
    const config = demoConfig();
    const old = { severity: "critical" } as unknown as { severityRule: "probe_down" };
    expect(severityOf(config, "fraud-detector", old)).toBe("critical");
    expect(severityOf(config, "fraud-detector", {} as { severityRule: "probe_down" })).toBe("warning");
  });

  it("refuses an unknown rule or level with the path and what is allowed", () => {
    const rule = parse({ alerting: { severity: { drift_everything: "info" } } });
    expect(rule.success).toBe(false);
    expect(JSON.stringify(rule.error?.issues)).toContain("drift_everything");
    const level = parse({ alerting: { severity: { probe_down: "fatal" } } });
    expect(level.success).toBe(false);
    expect(level.error?.issues[0]?.path).toEqual(["alerting", "severity", "probe_down"]);
    expect(level.error?.issues[0]?.message).toBe(
      "unknown severity 'fatal' (expected one of: critical, warning, info)",
    );
    const model = parse({}, { severity: { probe_down: "loud" } });
    expect(model.error?.issues[0]?.path).toEqual(["models", 0, "severity", "probe_down"]);
    const group = parse({ escalation: { severity: { critical: { start: "l2", l2: { group: "nobody" } } } } });
    expect(group.error?.issues[0]?.path).toEqual(["escalation", "severity", "critical", "l2", "group"]);
    const start = parse({ escalation: { severity: { critical: { start: "l4" } } } });
    expect(start.success).toBe(false);
  });
});

describe("the escalation policy of a severity", () => {
  it("the demo's critical policy starts at L2 with a 15-minute L2 wait; the model's own overrides apply last", () => {
    const config = demoConfig();
    const critical = policyFor(config, "fraud-detector", "critical");
    expect(critical.startTier).toBe(2);
    expect(critical.tiers[2].waitMs).toBe(15 * 60_000);
    // fraud-detector's own l3 wait (30m) beats the default's 1h.
    expect(critical.tiers[3].waitMs).toBe(30 * 60_000);
    const warning = policyFor(config, "fraud-detector", "warning");
    expect(warning.startTier).toBe(1);
    expect(warning.tiers[1].waitMs).toBe(5 * 60_000);
  });

  it("a severity's tier override is beaten by the model's override of the same field", () => {
    const parsed = parse({
      escalation: {
        severity: { critical: { start: "l3", l2: { wait: "1m" }, l3: { wait: "2m" } } },
        models: { "fraud-detector": { l3: { wait: "3m" } } },
      },
    });
    if (!parsed.success) throw parsed.error;
    const policy = policyFor(parsed.data, "fraud-detector", "critical");
    expect(policy.startTier).toBe(3);
    expect(policy.tiers[2].waitMs).toBe(60_000);
    expect(policy.tiers[3].waitMs).toBe(3 * 60_000);
  });
});
