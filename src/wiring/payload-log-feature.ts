/**
 * Payload logging (KServe / Seldon CloudEvents): the ingest endpoint, the claimed sweep that
 * expires unpaired halves (and completes pairs a crash interrupted), and the metrics an operator
 * watches: halves waiting and unpaired per model (from Postgres, so every replica reports the
 * same) and a counter of halves expired by this process.
 */
import { Counter, Gauge } from "prom-client";
import type { Feature, FeatureContext } from "../features.js";
import { cloudEventRoutes } from "../http/cloudevents-routes.js";
import type { IngestService } from "../ingest/index.js";
import type { ModelRegistry } from "../models/index.js";
import { createPayloadLogService, type PayloadLogService } from "../payload-log/index.js";
import { createScheduler, type Scheduler } from "../scheduler/index.js";

/** The feature plus its service and scheduler, for tests that drive the sweep directly. */
export type PayloadLogFeature = Feature & {
  payloadLog: PayloadLogService;
  scheduler: Scheduler;
  /** Runs the sweep now, counting what expired (the claimed job every minute does the same). */
  sweep(): ReturnType<PayloadLogService["sweep"]>;
};

/** Builds the payload-logging feature on top of the monitoring feature's registry and ingest. */
export function createPayloadLogFeature(
  ctx: FeatureContext,
  opts: { registry: ModelRegistry; ingest: IngestService; ready: () => Promise<void>; schedule?: boolean },
): PayloadLogFeature {
  const { db } = ctx.database;
  const logger = ctx.logger.child({ component: "payload-log" });
  const payloadLog = createPayloadLogService({
    db,
    config: ctx.config,
    registry: opts.registry,
    ingest: opts.ingest,
    clock: ctx.clock,
    logger,
  });
  const unpaired = new Counter({
    name: "mlops_cloudevents_unpaired_total",
    help: "Logged inference halves (request or response) that got no partner within ingest.cloudevents.pair_window, expired by this process",
    labelNames: ["model", "half"],
    registers: [ctx.metrics.registry],
  });
  new Gauge({
    name: "mlops_cloudevents_halves",
    help: "Logged inference halves by model and state: waiting_request / waiting_response (within the window) and unpaired (expired, kept for ingest.cloudevents.keep)",
    labelNames: ["model", "state"],
    registers: [ctx.metrics.registry],
    async collect() {
      this.reset();
      for (const m of (await payloadLog.report(0)).models) {
        this.set({ model: m.model, state: "waiting_request" }, m.waiting_request);
        this.set({ model: m.model, state: "waiting_response" }, m.waiting_response);
        this.set({ model: m.model, state: "unpaired" }, m.unpaired);
      }
    },
  });
  const sweep = async () => {
    const result = await payloadLog.sweep();
    for (const e of result.expired) unpaired.inc({ model: e.model, half: e.half });
    return result;
  };
  const scheduler = createScheduler({
    db,
    clock: ctx.clock,
    logger,
    liveness: ctx.liveness,
  });
  scheduler.add({ name: "payload-log:sweep", cron: "* * * * *", run: sweep });
  return {
    name: "payload-log",
    http: async (app) => {
      await opts.ready();
      await app.register(
        cloudEventRoutes({
          apiTokens: ctx.apiTokens,
          payloadLog,
          allowFrom: ctx.config.ingest.cloudevents.allow_from,
        }),
      );
    },
    async start() {
      await opts.ready();
      if (opts.schedule !== false) scheduler.start();
    },
    async stop() {
      await scheduler.stop();
    },
    payloadLog,
    scheduler,
    sweep,
  };
}
