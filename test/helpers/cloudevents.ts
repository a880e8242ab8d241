import { readFileSync } from "node:fs";
import { type Bot, startBot } from "../../src/bot.js";
import { configSchema, type MlopsConfig, parseEnv } from "../../src/config/index.js";
import type { Database } from "../../src/db/index.js";
import { createFeatures } from "../../src/features.js";
import type { Clock } from "../../src/shared/clock.js";
import type { PayloadLogFeature } from "../../src/wiring/payload-log-feature.js";
import { demoConfig } from "./bot.js";
import { testLogger } from "./db.js";

/** One recorded HTTP POST of KServe's logger (see test/fixtures/kserve/README.md). */
export interface EventFixture {
  headers: Record<string, string>;
  body: unknown;
}

/** The fixture `name` (v1-request, v1-response, v2-request, v2-response). */
export function kserveEvent(name: string, headers: Record<string, string | undefined> = {}): EventFixture {
  const f = JSON.parse(
    readFileSync(new URL(`../fixtures/kserve/${name}.json`, import.meta.url), "utf8"),
  ) as EventFixture;
  const merged: Record<string, string> = { ...f.headers };
  for (const [k, v] of Object.entries(headers))
    if (v === undefined) delete merged[k];
    else merged[k] = v;
  return { headers: merged, body: f.body };
}

/** The iris features in the order of the sklearn example's instances. */
export const IRIS_FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"] as const;

/**
 * The YAML-shaped input of a config with three iris models on the same features: `iris` (mapped
 * to the V1 sklearn-iris InferenceService), `iris-v2` (the V2 sklearn-v2-iris one) and
 * `iris-direct` (not mapped: fed through the JSON API to compare with), and the demo's
 * `fraud-detector`, which the shipped runbooks name.
 */
export function irisConfigInput(sections: Record<string, unknown> = {}): Record<string, unknown> {
  const demo = demoConfig();
  const features = IRIS_FEATURES.map((name) => ({ name, type: "numeric" }));
  const columns = Object.fromEntries(IRIS_FEATURES.map((name, i) => [name, { column: i }]));
  const model = (slug: string) => ({
    slug,
    name: slug,
    task: "multiclass_classification",
    owners: "fraud-ml",
    alert_channel: "#fraud-alerts",
    features,
  });
  return {
    workspace: {
      name: demo.workspace.name,
      alert_channel: demo.workspace.alert_channel,
      user_groups: demo.workspace.user_groups,
    },
    models: [
      {
        ...model("iris"),
        inference_logger: {
          inference_service: "sklearn-iris",
          namespace: "default",
          version: "v1",
          features: columns,
        },
      },
      {
        ...model("iris-v2"),
        inference_logger: { inference_service: "sklearn-v2-iris", version: "v1", features: columns },
      },
      model("iris-direct"),
      // The shipped runbooks name this model.
      {
        ...model("fraud-detector"),
        task: "binary_classification",
        features: [{ name: "amount", type: "numeric" }],
      },
    ],
    sandbox: { channels: ["#mlops-alerts", "#fraud-alerts"], users: demo.sandbox.users },
    ...sections,
  };
}

/** The iris config, validated. */
export function irisConfig(sections: Record<string, unknown> = {}): MlopsConfig {
  return configSchema.parse(irisConfigInput(sections));
}

/** Starts a bot on `database` (tests keep it across restarts) and hands back its payload-log feature. */
export async function startCloudEventsBot(opts: {
  database: Database;
  config?: MlopsConfig;
  clock?: Clock;
  env?: Record<string, string>;
}): Promise<Bot & { payloadLog: PayloadLogFeature }> {
  let payloadLog: PayloadLogFeature | undefined;
  const bot = await startBot({
    env: parseEnv({ PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "silent", ...opts.env }),
    config: opts.config ?? irisConfig(),
    logger: testLogger,
    slackRetries: 0,
    database: opts.database,
    ...(opts.clock ? { clock: opts.clock } : {}),
    features: (ctx) => {
      const list = createFeatures(ctx);
      payloadLog = list.find((f) => f.name === "payload-log") as PayloadLogFeature;
      return list;
    },
  });
  if (!payloadLog) throw new Error("the payload-log feature is missing");
  return { ...bot, payloadLog };
}

/** Posts one event (its body as JSON unless a string) and returns the status and JSON answer. */
export async function postEvent(
  url: string,
  event: EventFixture,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${url}/api/v1/ingest/cloudevents`, {
    method: "POST",
    headers: { ...event.headers, ...headers },
    body: typeof event.body === "string" ? event.body : JSON.stringify(event.body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
