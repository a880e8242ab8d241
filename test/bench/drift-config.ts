import { configSchema, type MlopsConfig } from "../../src/config/index.js";

/** Models `w20` (20 numeric features) and `w50` (50), each with a drift monitor over `window`. */
export function driftBenchConfig(window: string): MlopsConfig {
  const model = (slug: string, n: number) => ({
    slug,
    name: slug,
    task: "binary_classification",
    owners: "team",
    features: Array.from({ length: n }, (_, i) => ({ name: `f${i}`, type: "numeric" })),
    monitors: { drift: { window, method: "auto" } },
  });
  return configSchema.parse({
    workspace: {
      alert_channel: "#alerts",
      user_groups: { l1: { handle: "ops" }, l2: { handle: "ds" }, team: { handle: "team" } },
    },
    models: [model("w20", 20), model("w50", 50)],
  });
}
