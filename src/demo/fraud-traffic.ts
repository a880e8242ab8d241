/**
 * Realistic predictions of the demo `fraud-detector`: card transactions, a scorer whose
 * confidence is calibrated, and ground truth drawn from the score. Faults can be injected:
 * `drift` (bigger amounts, more web and electronics, farther from home), `quality` (missing
 * account ages, an unseen country, a new field), `confidence` (scores collapse towards 0.5),
 * `drift_segment` (drift in one country only, found by the per-segment drift run).
 */

/** What can be injected into the stream. */
export const FAULTS = ["none", "drift", "drift_segment", "quality", "confidence"] as const;
/** The one country whose traffic drifts under the `drift_segment` fault (5% of traffic). */
export const SEGMENT_FAULT_COUNTRY = "IT";
/** A fault. */
export type Fault = (typeof FAULTS)[number];

/** One prediction as the ingest API takes it, with the label the demo will send later. */
export interface DemoPrediction {
  id: string;
  ts: string;
  model_version: string;
  prediction: number;
  confidence: number;
  features: Record<string, number | string | null>;
  /** Ground truth (not sent with the prediction). */
  label: number;
}

/** A seeded uniform source (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal draw from a uniform source (Box-Muller). */
export function normal(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(Math.max(rand(), 1e-12))) * Math.cos(2 * Math.PI * rand());
}

function pick<T extends string>(rand: () => number, weights: readonly (readonly [T, number])[]): T {
  const total = weights.reduce((s, [, w]) => s + w, 0);
  let x = rand() * total;
  for (const [v, w] of weights) {
    x -= w;
    if (x <= 0) return v;
  }
  return (weights[weights.length - 1] as readonly [T, number])[0];
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

/** The fraud scorer the demo model service runs too: P(fraud) from the transaction. */
export function fraudScore(f: Record<string, unknown>): number {
  const amount = Number(f.amount ?? 50);
  const age = Number(f.account_age_days ?? 365);
  const txn = Number(f.txn_count_24h ?? 2);
  const dist = Number(f.distance_from_home_km ?? 10);
  const z =
    -4.2 +
    1.1 * Math.log(Math.max(amount, 1) / 60) +
    0.12 * txn +
    0.004 * dist -
    0.0012 * age +
    (f.channel === "web" ? 0.6 : 0) +
    (f.country === "XX" ? 2 : 0);
  return 1 / (1 + Math.exp(-z));
}

/** Generates one prediction at `ts`. */
export function demoPrediction(
  rand: () => number,
  id: string,
  ts: Date,
  fault: Fault = "none",
): DemoPrediction {
  const drift = fault === "drift";
  const features: Record<string, number | string | null> = {
    amount: round(Math.exp((drift ? 4.4 : 3.6) + normal(rand) * (drift ? 1.2 : 0.9)), 2),
    account_age_days: Math.floor(-Math.log(Math.max(rand(), 1e-9)) * (drift ? 250 : 900)),
    txn_count_24h: Math.floor(-Math.log(Math.max(rand(), 1e-9)) * (drift ? 6 : 2.5)),
    distance_from_home_km: round(-Math.log(Math.max(rand(), 1e-9)) * (drift ? 90 : 18), 1),
    merchant_category: pick(rand, [
      ["grocery", drift ? 15 : 35],
      ["restaurants", 20],
      ["fuel", 15],
      ["travel", 10],
      ["electronics", drift ? 35 : 10],
      ["fashion", 10],
    ]),
    channel: pick(rand, [
      ["pos", drift ? 30 : 65],
      ["web", drift ? 65 : 30],
      ["atm", 5],
    ]),
    country: pick(rand, [
      ["DE", 50],
      ["FR", 20],
      ["NL", 15],
      ["ES", 10],
      ["IT", 5],
    ]),
  };
  // Segment only: Italy's amounts quadruple; the other countries, 95% of traffic, stay as they
  // were, so the shift hides in the global numbers (global PSI of amount stays under 0.2).
  // (Applied after the draws, so every other fault's rows stay the same for a seed.)
  if (fault === "drift_segment" && features.country === SEGMENT_FAULT_COUNTRY)
    features.amount = round((features.amount as number) * 4, 2);
  if (fault === "quality") {
    if (rand() < 0.4) features.account_age_days = null;
    if (rand() < 0.1) features.country = "XX";
    features.device_id = `d${Math.floor(rand() * 1e6)}`;
  }
  let p = fraudScore(features);
  if (fault === "confidence") p = 0.35 + 0.3 * rand();
  const label = rand() < p ? 1 : 0;
  const prediction = p >= 0.5 ? 1 : 0;
  return {
    id,
    ts: ts.toISOString(),
    model_version: "v1",
    prediction,
    confidence: round(prediction === 1 ? p : 1 - p, 4),
    features,
    label,
  };
}

/** `n` predictions spread evenly over [from, to). */
export function demoBatch(
  rand: () => number,
  prefix: string,
  n: number,
  from: Date,
  to: Date,
  fault: Fault = "none",
): DemoPrediction[] {
  const span = to.getTime() - from.getTime();
  return Array.from({ length: n }, (_, i) =>
    demoPrediction(rand, `${prefix}-${i}`, new Date(from.getTime() + (i * span) / n), fault),
  );
}

/** The prediction without its label, as the ingest API takes it. */
export function withoutLabel({ label: _label, ...row }: DemoPrediction): Omit<DemoPrediction, "label"> {
  return row;
}
