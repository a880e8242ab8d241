import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type Bot, startBot } from "../../src/bot.js";
import { type MlopsConfig, parseEnv, type RetrainingConfig } from "../../src/config/index.js";
import type { Clock } from "../../src/shared/clock.js";
import type { Logger } from "../../src/shared/logger.js";
import { createIncidentsFeature, type IncidentsFeature } from "../../src/wiring/incidents-feature.js";
import { createMonitoringFeature, type MonitoringFeature } from "../../src/wiring/monitoring-feature.js";
import { createRetrainingFeature, type RetrainingFeature } from "../../src/wiring/retraining-feature.js";
import { demoConfig } from "../helpers/bot.js";
import { openTestDatabase, testLogger } from "../helpers/db.js";

/** The API token the retraining e2e bots accept. */
export const API_TOKEN = "mlops_e2e_retraining_token_0123456789abcdef";
/** The shared secret of the test pipeline and deploy webhooks. */
export const WEBHOOK_SECRET = "retraining-e2e-webhook-secret-0123";

/** One request the test webhook server received. */
export interface Received {
  path: string;
  headers: IncomingMessage["headers"];
  body: string;
  json: Record<string, unknown>;
  /** Whether the HMAC over `v1:<timestamp>:<body>` with WEBHOOK_SECRET matches the header. */
  validSignature: boolean;
}

/** A local HTTP server standing in for the CI pipeline and the deployment; it checks signatures. */
export async function startWebhookServer(): Promise<{
  url: string;
  received: Received[];
  /** Answer the next requests to `path` with this status (e.g. 503 to test retries). */
  failNext(path: string, status: number, times?: number): void;
  close(): Promise<void>;
}> {
  const received: Received[] = [];
  const failures = new Map<string, { status: number; times: number }>();
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => {
      body += c.toString("utf8");
    });
    req.on("end", () => {
      const ts = String(req.headers["x-mlops-timestamp"] ?? "");
      const sig = String(req.headers["x-mlops-signature"] ?? "");
      const expected = `v1=${createHmac("sha256", WEBHOOK_SECRET).update(`v1:${ts}:${body}`).digest("hex")}`;
      const validSignature =
        sig.length === expected.length && timingSafeEqual(Buffer.from(sig), Buffer.from(expected));
      let json: Record<string, unknown> = {};
      try {
        json = JSON.parse(body) as Record<string, unknown>;
      } catch {}
      const path = req.url ?? "/";
      received.push({ path, headers: req.headers, body, json, validSignature });
      const fail = failures.get(path);
      if (fail && fail.times > 0) {
        fail.times--;
        res.writeHead(fail.status).end("unavailable");
        return;
      }
      res.writeHead(202, { "content-type": "application/json" });
      res.end(
        JSON.stringify(path === "/pipeline" ? { run_url: `https://ci.example/runs/${json.request_id}` } : {}),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    failNext(path, status, times = 1) {
      failures.set(path, { status, times });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The demo config with the fraud detector's retraining pointed at the test webhooks. */
export function retrainingConfig(webhooks: string, over: Partial<RetrainingConfig> = {}): MlopsConfig {
  const config = demoConfig();
  const model = config.models[0];
  if (!model?.retraining) throw new Error("the demo model has a retraining section");
  model.retraining = {
    ...model.retraining,
    pipeline: { type: "webhook", url: `${webhooks}/pipeline`, secret: WEBHOOK_SECRET, timeout: 5_000 },
    deploy: { type: "webhook", url: `${webhooks}/deploy`, secret: WEBHOOK_SECRET, timeout: 5_000 },
    approvals_required: 2,
    canary: { share: 0.1, min_sample_per_arm: 30, alpha: 0.05, schedule: "*/5 * * * *" },
    ...over,
  };
  return config;
}

/** A bot running incidents, monitoring and retraining against the sandbox. */
export type RetrainingBot = Bot & {
  sandbox: NonNullable<Bot["sandbox"]>;
  incidents: IncidentsFeature;
  monitoring: MonitoringFeature;
  retraining: RetrainingFeature;
};

/** A clock that runs with real time, shifted by what a test adds (to pass expiries). */
export function shiftableClock(): Clock & { shift(ms: number): void } {
  let offset = 0;
  return {
    now: () => new Date(Date.now() + offset),
    shift(ms: number) {
      offset += ms;
    },
  };
}

/** Starts the bot with a fresh test database; the cron timers stay off (tests tick by hand). */
export async function startRetrainingBot(
  config: MlopsConfig,
  clock?: Clock,
  logger: Logger = testLogger,
): Promise<RetrainingBot> {
  const database = await openTestDatabase();
  const env = parseEnv({ PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "silent", MLOPS_API_TOKEN: API_TOKEN });
  let features:
    | { incidents: IncidentsFeature; monitoring: MonitoringFeature; retraining: RetrainingFeature }
    | undefined;
  const bot = await startBot({
    env,
    config,
    logger,
    slackRetries: 0,
    database,
    ...(clock ? { clock } : {}),
    features: (ctx) => {
      const incidents = createIncidentsFeature(ctx, { tickMs: 200 });
      const monitoring = createMonitoringFeature(ctx, { sink: incidents.sink, schedule: false });
      const retraining = createRetrainingFeature(
        ctx,
        { incidents, previousModels: monitoring.commands?.find((c) => c.name === "models") },
        { tickMs: 100, schedule: false },
      );
      features = { incidents, monitoring, retraining };
      return [incidents, monitoring, retraining];
    },
  });
  if (!bot.sandbox || !features) throw new Error("expected sandbox mode");
  return { ...bot, sandbox: bot.sandbox, ...features };
}
