import type { ModelConfig } from "../../src/config/index.js";
import { type DemoPrediction, demoPrediction, withoutLabel } from "../../src/demo/fraud-traffic.js";
import { driftOnlyConfig } from "./bot.js";

const HOUR = 3_600_000;
const MIN = 60_000;

/** The features the grouping stories judge. */
export const GROUPING_FEATURES = [
  "amount",
  "distance_from_home_km",
  "channel",
  "country",
  "merchant_category",
];

/**
 * Drift on five features, each judged by PSI at 0.2 (a distance, so unchanged features stay far
 * below it at 400 rows), over the last hour; its schedule never comes round during a test, so
 * only the checks the test sends run it.
 */
export function groupingConfig() {
  const drift = (driftOnlyConfig().models[0] as ModelConfig).monitors.drift as NonNullable<
    ModelConfig["monitors"]["drift"]
  >;
  return driftOnlyConfig({
    features: GROUPING_FEATURES.map((name) => ({
      name,
      type: ["amount", "distance_from_home_km"].includes(name) ? "numeric" : "categorical",
    })) as ModelConfig["features"],
    monitors: { drift: { ...drift, method: "psi", threshold: 0.2, window: HOUR, schedule: "0 0 1 1 *" } },
  });
}

/**
 * 400 predictions over the 50 minutes before `end` in which only `drifted` features come from the
 * demo's drifted distribution; the prediction itself stays as the healthy features make it.
 */
export function partlyDriftedHour(
  rand: () => number,
  end: Date,
  tag: string,
  drifted: readonly string[],
): Omit<DemoPrediction, "label">[] {
  const n = 400;
  return Array.from({ length: n }, (_, i) => {
    const ts = new Date(end.getTime() - 50 * MIN + Math.floor((i * 49 * MIN) / n));
    const row = demoPrediction(rand, `${tag}_${i}`, ts, "none");
    const bad = demoPrediction(rand, `${tag}_d${i}`, ts, "drift");
    for (const f of drifted) row.features[f] = bad.features[f] ?? null;
    return withoutLabel(row);
  });
}

/** Posts `body` to the model's API (`predictions`, `labels`) with a bearer token; the status. */
export async function postToModel(url: string, token: string, path: string, body: unknown): Promise<number> {
  const res = await fetch(`${url}/api/v1/models/fraud-detector/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  return res.status;
}
