import { configSchema, type MlopsConfig } from "../../src/config/index.js";

/** Labelled rows as the fixture (test/rollups/fixtures/regression.json) holds them. */
export interface RegressionSample {
  label: number[];
  prediction: number[];
}

/** Prediction rows of `s` spread evenly over [from, from + span), ids `${prefix}-i`, one feature x. */
export function regressionPredictions(s: RegressionSample, prefix: string, from: Date, span: number) {
  return s.prediction.map((p, i) => ({
    id: `${prefix}-${i}`,
    ts: new Date(from.getTime() + Math.floor((i * span) / s.prediction.length)).toISOString(),
    model_version: "v1",
    prediction: p,
    confidence: null,
    features: { x: (s.label[i] as number) / 10 },
  }));
}

/** The labels of `s` for the ids regressionPredictions gave them. */
export function regressionLabels(s: RegressionSample, prefix: string) {
  return s.label.map((l, i) => ({ id: `${prefix}-${i}`, label: l }));
}

/** A seeded sample: y ~ 50 + 10·N(0,1), prediction = y − (bias + noise·N(0,1)), rounded to 1e-6. */
export function regressionSample(
  normal: () => number,
  n: number,
  opts: { bias?: number; noise: number },
): RegressionSample {
  const r6 = (x: number) => Math.round(x * 1e6) / 1e6;
  const label = Array.from({ length: n }, () => r6(50 + 10 * normal()));
  const prediction = label.map((y) => r6(y - ((opts.bias ?? 0) + opts.noise * normal())));
  return { label, prediction };
}

/** A config with one regression model `reg` (one numeric feature x) and the given monitors. */
export function regressionConfig(monitors: Record<string, unknown>): MlopsConfig {
  return configSchema.parse({
    workspace: {
      alert_channel: "#alerts",
      user_groups: { l1: { handle: "ops" }, l2: { handle: "ds" }, t: { handle: "team" } },
    },
    models: [
      {
        slug: "reg",
        name: "Regression",
        task: "regression",
        owners: "t",
        champion: "v1",
        features: [{ name: "x", type: "numeric" }],
        monitors,
      },
    ],
  });
}
