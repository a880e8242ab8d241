/**
 * Feature importance in drift: the weights a partial importance vector gives, the weighted
 * drifted share (dataset_drift_weighting: importance) through the real drift rules, and the
 * ranking of drifted features by importance × drift score.
 */
import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../../src/config/index.js";
import { type CurrentColumn, evaluateDrift } from "../../src/monitoring/monitors/drift.js";
import {
  driftedShare,
  importanceWeights,
  rankDrifted,
  rankScore,
} from "../../src/monitoring/monitors/importance.js";
import type { CategoricalProfile, ReferenceProfile } from "../../src/monitoring/profile.js";
import { simConfig } from "../helpers/monitoring.js";

const even: CategoricalProfile = {
  kind: "categorical",
  n: 1000,
  missing: 0,
  counts: { a: 500, b: 500 },
  distinct: 2,
};

/** A profile of four categorical features, each 50/50 on a and b in the reference. */
function profile(names: string[]): ReferenceProfile {
  return {
    formatVersion: 1,
    rows: 1000,
    labelledRows: 0,
    from: null,
    to: null,
    features: names.map((name, i) => ({ name, type: "categorical", slot: i + 1, column: even })),
    confidence: null,
    prediction: even,
    lowConfidenceShare: null,
    positiveClass: null,
    performance: null,
    calibration: null,
    chunks: 0,
    chunkValues: {},
    bands: {},
  };
}

const stable = (): CurrentColumn => ({
  kind: "categorical",
  counts: new Map([
    ["a", 500],
    ["b", 500],
  ]),
  missing: 0,
});
const shifted = (): CurrentColumn => ({
  kind: "categorical",
  counts: new Map([
    ["a", 900],
    ["b", 100],
  ]),
  missing: 0,
});

describe("feature importance", () => {
  it("a feature without importance weighs the mean of those given; none given: all weigh 1", () => {
    expect([
      ...importanceWeights([{ name: "a", importance: 4 }, { name: "b", importance: 2 }, { name: "c" }]),
    ]).toEqual([
      ["a", 4],
      ["b", 2],
      ["c", 3],
    ]);
    expect([...importanceWeights([{ name: "a" }, { name: "b" }]).values()]).toEqual([1, 1]);
  });

  it("the weighted share is Σ importance of drifted features over Σ importance; count share without weights", () => {
    const cols = [
      { column: "a", drifted: true },
      { column: "b", drifted: false },
      { column: "c", drifted: false },
      { column: "d", drifted: false },
    ];
    const w = new Map([
      ["a", 6],
      ["b", 1],
      ["c", 1],
      ["d", 2],
    ]);
    expect(driftedShare(cols, w)).toBeCloseTo(0.6, 12);
    expect(driftedShare(cols, null)).toBe(0.25);
    // Zero total weight says nothing about importance: the count share stands.
    expect(
      driftedShare(
        cols,
        new Map([
          ["a", 0],
          ["b", 0],
          ["c", 0],
          ["d", 0],
        ]),
      ),
    ).toBe(0.25);
  });

  it("dataset drift fires on one important drifted feature under importance weighting, not under count", () => {
    const names = ["income", "age", "zip", "device"];
    const p = profile(names);
    const current = new Map(names.map((n) => [n, n === "income" ? shifted() : stable()]));
    const cfg = simConfig({ drift: { method: "jensen_shannon", dataset_drift_share: 0.5 } }).models[0]
      ?.monitors.drift;
    if (!cfg) throw new Error("no drift config");
    const weights = importanceWeights([
      { name: "income", importance: 0.6 },
      { name: "age", importance: 0.2 },
      { name: "zip", importance: 0.1 },
      { name: "device", importance: 0.1 },
    ]);
    const byCount = evaluateDrift(p, cfg, current, weights);
    expect(byCount.columns.filter((c) => c.drifted).map((c) => c.column)).toEqual(["income"]);
    expect(byCount.driftShare).toBe(0.25);
    expect(byCount.datasetDrift).toBe(false);
    const byImportance = evaluateDrift(
      p,
      { ...cfg, dataset_drift_weighting: "importance" },
      current,
      weights,
    );
    expect(byImportance.driftShare).toBeCloseTo(0.6, 12);
    expect(byImportance.datasetDrift).toBe(true);
  });

  it("drifted features rank by importance × drift score: an important moderate drift leads a large unimportant one", () => {
    const weights = new Map([
      ["income", 3],
      ["zip", 0.5],
    ]);
    const cols = [
      { column: "zip", value: 0.9, threshold: 0.2, isTest: false, drifted: true },
      { column: "age", value: 0.3, threshold: 0.2, isTest: false, drifted: false },
      { column: "income", value: 0.5, threshold: 0.2, isTest: false, drifted: true },
      // A p-value test scores threshold / p: 0.05 / 0.001 = 50.
      { column: "prediction", value: 0.001, threshold: 0.05, isTest: true, drifted: true },
    ];
    expect(rankDrifted(cols, weights).map((c) => c.column)).toEqual(["prediction", "income", "zip"]);
    expect(rankScore(cols[2] as (typeof cols)[number], weights)).toBeCloseTo(7.5, 12);
    expect(rankScore(cols[0] as (typeof cols)[number], weights)).toBeCloseTo(2.25, 12);
    // Without importances the drift score alone orders them.
    expect(rankDrifted(cols, new Map()).map((c) => c.column)).toEqual(["prediction", "zip", "income"]);
  });

  it("the config refuses a negative importance, naming the key path", () => {
    const yaml = [
      "workspace:",
      "  alert_channel: '#alerts'",
      "  user_groups: { l1: { handle: ops }, l2: { handle: ds } }",
      "models:",
      "  - slug: m",
      "    name: M",
      "    task: binary_classification",
      "    owners: l2",
      "    champion: v1",
      "    features: [{ name: x, type: numeric, importance: -1 }]",
    ].join("\n");
    let err: unknown;
    try {
      parseConfig(yaml, "mlops.config.yaml", {});
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems.join("\n")).toContain("models[0].features[0].importance");
  });
});
