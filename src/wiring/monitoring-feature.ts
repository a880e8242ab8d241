/**
 * The monitoring feature: model registry, ingest API, reference profiles, monitors on schedule
 * and on demand, the real-time confidence path, and `/mlops check|status|models|baseline`.
 * Findings leave through the AlertSink it is given.
 */
import type { Feature, FeatureContext } from "../features.js";
import { monitoringRoutes } from "../http/monitoring-routes.js";
import { createIngestService, type IngestService } from "../ingest/index.js";
import { createModelRegistry, type ModelRegistry } from "../models/index.js";
import {
  type AlertSink,
  configuredMonitors,
  createMonitoringRepository,
  createMonitoringService,
  createRealtimeConfidence,
  createReferenceService,
  createWindowRepository,
  fetchModelServiceClient,
  type ModelServiceClient,
  type MonitoringService,
  type ReferenceService,
} from "../monitoring/index.js";
import { createOutboxRepository } from "../outbox/index.js";
import { createScheduler, type Scheduler } from "../scheduler/index.js";
import { type ChannelPoster, monitoringCommands } from "../slack/monitoring/commands.js";

/** Options of the monitoring feature. */
export interface MonitoringFeatureOptions {
  sink: AlertSink;
  /** Calls model microservices for probes (fetch by default; tests pass their own). */
  services?: ModelServiceClient;
  /** Start the cron timers (default true). */
  schedule?: boolean;
  /** Names this replica in cron claims. */
  instanceId?: string;
  /** Wakes the outbox dispatcher after `/mlops check` queues its summary (else it is polled). */
  wake?: () => void;
}

/** The monitoring feature plus its services, for tests and benches that drive them directly. */
export type MonitoringFeature = Feature & {
  registry: ModelRegistry;
  ingest: IngestService;
  monitoring: MonitoringService;
  reference: ReferenceService;
  scheduler: Scheduler;
  ready(): Promise<void>;
  /** Resolves when background work started by commands and ingest (checks, bursts) is done. */
  idle(): Promise<void>;
};

/** Builds the monitoring feature. */
export function createMonitoringFeature(
  ctx: FeatureContext,
  opts: MonitoringFeatureOptions,
): MonitoringFeature {
  const { db } = ctx.database;
  const registry = createModelRegistry(db, ctx.clock);
  let synced: Promise<void> | undefined;
  const ready = () => {
    synced ??= registry.sync(ctx.config).then(() => undefined);
    return synced;
  };
  const runs = createMonitoringRepository(db);
  const windows = createWindowRepository(db);
  const monitoring = createMonitoringService({
    config: ctx.config,
    registry,
    runs,
    windows,
    clock: ctx.clock,
    sink: opts.sink,
    services: opts.services ?? fetchModelServiceClient,
    logger: ctx.logger.child({ component: "monitoring" }),
  });
  const realtime = createRealtimeConfidence({
    config: ctx.config,
    monitoring,
    clock: ctx.clock,
    logger: ctx.logger,
  });
  const ingest = createIngestService({ db, registry, clock: ctx.clock, listeners: [realtime] });
  const reference = createReferenceService({ registry, windows, runs, ingest, clock: ctx.clock });
  const scheduler = createScheduler({
    db,
    clock: ctx.clock,
    logger: ctx.logger.child({ component: "scheduler" }),
    instanceId: opts.instanceId,
  });
  for (const model of ctx.config.models)
    for (const kind of configuredMonitors(model)) {
      const cron = (model.monitors[kind] as { schedule: string }).schedule;
      scheduler.add({
        name: `monitor:${model.slug}:${kind}`,
        cron,
        run: () => monitoring.runMonitor(model.slug, kind, "schedule"),
      });
    }
  let poster: ChannelPoster | undefined;
  const pending = new Set<Promise<unknown>>();
  const track = (p: Promise<unknown>) => {
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };
  const commands = monitoringCommands({
    ready,
    registry,
    monitoring,
    reference,
    clock: ctx.clock,
    logger: ctx.logger,
    track,
    poster: () => {
      if (!poster) throw new Error("Slack is not connected yet");
      return poster;
    },
  });
  return {
    name: "monitoring",
    commands,
    http: async (app) => {
      await ready();
      await app.register(monitoringRoutes({ apiTokens: ctx.apiTokens, ingest, reference, monitoring }));
    },
    async start() {
      await ready();
      // The check's summary goes through the outbox like every other write, so a Slack outage
      // delays it instead of losing it.
      poster = {
        async post(channel, message) {
          await createOutboxRepository(db).enqueue(
            { method: "chat.postMessage", channel, payload: { text: message.text, blocks: message.blocks } },
            ctx.clock.now(),
          );
          opts.wake?.();
        },
      };
      if (opts.schedule !== false) scheduler.start();
    },
    async stop() {
      await scheduler.stop();
      await Promise.allSettled([...pending]);
      await realtime.idle();
    },
    registry,
    ingest,
    monitoring,
    reference,
    scheduler,
    ready,
    async idle() {
      while (pending.size) await Promise.allSettled([...pending]);
      await realtime.idle();
    },
  };
}
