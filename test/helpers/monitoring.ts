import { createApiTokenService } from "../../src/api-tokens/index.js";
import type { Database } from "../../src/db/index.js";
import { normal, seededRandom as seeded } from "../../src/demo/fraud-traffic.js";
import { systemClock } from "../../src/shared/clock.js";

/** A fresh API token stored in the test database. */
export async function makeToken(
  database: Database,
  name = `t${Math.random().toString(36).slice(2, 10)}`,
): Promise<string> {
  return createApiTokenService(database.db, systemClock).create(name);
}

/** Seeded random sources shared with the demo traffic, so simulations are repeatable. */
export { normal, seeded };

/** One prediction row for the demo fraud-detector, optionally drifted. */
export function fraudRow(rand: () => number, id: string, ts: Date, opts: { drift?: boolean } = {}) {
  const amount = Math.exp(3.5 + normal(rand) * (opts.drift ? 1.4 : 1)) * (opts.drift ? 3 : 1);
  const p1 = Math.min(0.999, Math.max(0.001, 0.08 + 0.8 * rand() ** 6));
  const prediction = p1 >= 0.5 ? 1 : 0;
  return {
    id,
    ts: ts.toISOString(),
    model_version: "v1",
    prediction,
    confidence: Math.round((prediction === 1 ? p1 : 1 - p1) * 1e4) / 1e4,
    features: {
      amount: Math.round(amount * 100) / 100,
      account_age_days: Math.floor(rand() * 3000),
      txn_count_24h: Math.floor(-Math.log(Math.max(rand(), 1e-9)) * 3),
      distance_from_home_km: Math.round(-Math.log(Math.max(rand(), 1e-9)) * 20 * 10) / 10,
      merchant_category: ["grocery", "travel", "electronics", "fuel", "restaurants"][
        Math.floor(rand() ** (opts.drift ? 0.5 : 1.5) * 5)
      ] as string,
      channel: rand() < (opts.drift ? 0.7 : 0.3) ? "web" : "pos",
      country: ["DE", "FR", "NL", "ES"][Math.floor(rand() * 4)] as string,
    },
  };
}

import { createAccessControl } from "../../src/access/index.js";
import { createAuditLog } from "../../src/audit/index.js";
import { configSchema, type MlopsConfig } from "../../src/config/index.js";
import type { FeatureContext } from "../../src/features.js";
import type { AlertSignal, AlertSink } from "../../src/shared/alert-signal.js";
import type { Clock } from "../../src/shared/clock.js";
import { createMetrics } from "../../src/shared/metrics.js";
import { testLogger } from "./db.js";

/** A clock tests move by hand. */
export function manualClock(start: Date): Clock & { set(d: Date): void; advance(ms: number): void } {
  let now = start.getTime();
  return {
    now: () => new Date(now),
    set: (d) => {
      now = d.getTime();
    },
    advance: (ms) => {
      now += ms;
    },
  };
}

/** An AlertSink that keeps what it was given. */
export function recordingSink(): AlertSink & { signals: AlertSignal[] } {
  const signals: AlertSignal[] = [];
  return {
    signals,
    async emit(s) {
      signals.push(...s);
    },
  };
}

/** The FeatureContext of the composition root, built for one test database. */
export function featureContext(database: Database, config: MlopsConfig, clock: Clock): FeatureContext {
  return {
    config,
    database,
    logger: testLogger,
    metrics: createMetrics(),
    clock,
    audit: createAuditLog(database.db, testLogger),
    access: createAccessControl(config, { members: async () => [] }),
    apiTokens: createApiTokenService(database.db, clock),
  };
}

/** A config with one model `sim` of `features` numeric features f0…, and the given monitors. */
export function simConfig(
  monitors: Record<string, unknown>,
  opts: { features?: number; categorical?: string[]; importance?: Record<string, number> } = {},
): MlopsConfig {
  const n = opts.features ?? 10;
  return configSchema.parse({
    workspace: {
      alert_channel: "#alerts",
      user_groups: { l1: { handle: "ops" }, l2: { handle: "ds" }, sim: { handle: "sim-team" } },
    },
    models: [
      {
        slug: "sim",
        name: "Simulated model",
        task: "binary_classification",
        owners: "sim",
        confidence_threshold: 0.75,
        champion: "v1",
        features: [
          ...Array.from({ length: n }, (_, i) => ({
            name: `f${i}`,
            type: "numeric",
            ...(opts.importance?.[`f${i}`] !== undefined ? { importance: opts.importance[`f${i}`] } : {}),
          })),
          ...(opts.categorical ?? []).map((name) => ({ name, type: "categorical" })),
        ],
        monitors,
      },
    ],
  });
}
