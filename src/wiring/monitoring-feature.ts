/**
 * The monitoring feature: model registry, ingest API, reference profiles, monitors on schedule
 * and on demand, the real-time confidence path, and `/mlops check|status|models|baseline`.
 * Findings leave through the AlertSink it is given.
 */
import { Counter, Gauge } from "prom-client";
import type { Feature, FeatureContext } from "../features.js";
import { monitoringRoutes } from "../http/monitoring-routes.js";
import { createIngestService, type IngestService } from "../ingest/index.js";
import { rollupLayout } from "../ingest/service.js";
import { createModelRegistry, embeddingFeatures, type ModelRegistry } from "../models/index.js";
import { samplePerMinute } from "../monitoring/embedding-samples.js";
import {
  type AlertSink,
  configuredMonitors,
  createDeadmanSwitch,
  createEmbeddingSampleRepository,
  createIngestScorer,
  createMonitoringRepository,
  createMonitoringService,
  createRealtimeConfidence,
  createReferenceService,
  createRollupWindowRepository,
  type DeadmanSwitch,
  fetchModelServiceClient,
  type ModelServiceClient,
  type MonitoringService,
  type ReferenceService,
} from "../monitoring/index.js";
import { createOutboxRepository } from "../outbox/index.js";
import { backfillRollups } from "../rollups/backfill.js";
import { createRollupRepository } from "../rollups/repository.js";
import { createLabelRepository, createRollupWorker, type RollupWorker } from "../rollups/worker.js";
import { createScheduler, latestTick, type Scheduler } from "../scheduler/index.js";
import { type ChannelPoster, monitoringCommands } from "../slack/monitoring/commands.js";
import { createPartitionManager, type PartitionManager } from "../storage/partitions.js";
import { applyRetention, type RetentionReport } from "../storage/retention.js";

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
  /** Notices monitors that stopped running and models whose traffic stopped (a claimed job each minute). */
  deadman: DeadmanSwitch;
  rollups: RollupWorker;
  partitions: PartitionManager;
  /** Runs the retention job now (the daily claimed job calls the same). */
  retain(): Promise<RetentionReport>;
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
  const storage = ctx.config.storage;
  const maxCategories = storage.rollups.max_categories;
  const runs = createMonitoringRepository(db);
  const windows = createRollupWindowRepository(db, { maxCategories });
  const partitions = createPartitionManager(db, ctx.database.kind);
  const rollupRepo = createRollupRepository(db, { maxCategories });
  const labels = createLabelRepository(db);
  const rollups = createRollupWorker({
    rollups: rollupRepo,
    labels,
    clock: ctx.clock,
    logger: ctx.logger.child({ component: "rollups" }),
    labelWaitMs: storage.labels.early_wait,
  });
  const storageLogger = ctx.logger.child({ component: "storage" });
  const removed = new Counter({
    name: "mlops_retention_removed_rows_total",
    help: "Rows removed by the retention job, by table",
    labelNames: ["table"],
    registers: [ctx.metrics.registry],
  });
  new Gauge({
    name: "mlops_rollup_lag_seconds",
    help: "Age of the oldest ingest delta not yet folded into the rollups",
    registers: [ctx.metrics.registry],
    async collect() {
      this.set((await rollupRepo.lag()).oldestSeconds);
    },
  });
  new Gauge({
    name: "mlops_labels",
    help: "Labels by model and state: pending (waiting for their prediction), unmatched (never found it), joined_late",
    labelNames: ["model", "state"],
    registers: [ctx.metrics.registry],
    async collect() {
      const byId = await labels.all();
      for (const m of registry.list()) {
        const h = byId.get(m.id);
        if (!h) continue;
        this.set({ model: m.slug, state: "pending" }, h.pending);
        this.set({ model: m.slug, state: "unmatched" }, h.unmatched);
        this.set({ model: m.slug, state: "joined_late" }, h.joinedLate);
      }
    },
  });
  const retain = async () => {
    const report = await applyRetention({
      db,
      partitions,
      rollups: rollupRepo,
      retention: storage.retention,
      now: ctx.clock.now(),
      logger: storageLogger,
    });
    for (const [table, n] of Object.entries(report)) removed.inc({ table }, n);
    return report;
  };
  const samples = createEmbeddingSampleRepository(db);
  const embeddingsOf = (slug: string) => {
    const m = ctx.config.models.find((x) => x.slug === slug);
    return m ? embeddingFeatures(m) : [];
  };
  const monitoring = createMonitoringService({
    samples,
    config: ctx.config,
    registry,
    runs,
    windows,
    clock: ctx.clock,
    sink: opts.sink,
    services: opts.services ?? fetchModelServiceClient,
    logger: ctx.logger.child({ component: "monitoring" }),
    segmentsIn: (modelId, from, to) => rollupRepo.segmentsIn(modelId, from, to),
  });
  const realtime = createRealtimeConfidence({
    config: ctx.config,
    monitoring,
    clock: ctx.clock,
    logger: ctx.logger,
  });
  const scorer = createIngestScorer({ runs });
  const ingest = createIngestService({
    db,
    registry,
    clock: ctx.clock,
    partitions,
    maxCategories,
    listeners: [realtime],
    scorer,
    segmentsOf: (slug) => {
      const m = ctx.config.models.find((x) => x.slug === slug);
      return m?.segments.length ? { features: m.segments, cap: m.segment_cap } : undefined;
    },
    embeddingsOf: (slug) => {
      const specs = embeddingsOf(slug);
      const mv = ctx.config.models.find((x) => x.slug === slug)?.monitors.multivariate;
      return specs.length && mv
        ? { specs, sample: mv.embedding_sample, perMinute: samplePerMinute(mv) }
        : undefined;
    },
  });
  const reference = createReferenceService({
    registry,
    windows,
    runs,
    ingest,
    clock: ctx.clock,
    multivariateOf: (slug) => ctx.config.models.find((m) => m.slug === slug)?.monitors.multivariate,
    embeddingsOf,
    samples,
    onBaseline: (modelId) => scorer.invalidate(modelId),
  });
  const scheduler = createScheduler({
    db,
    clock: ctx.clock,
    logger: ctx.logger.child({ component: "scheduler" }),
    instanceId: opts.instanceId,
    liveness: opts.instanceId ? undefined : ctx.liveness,
  });
  scheduler.add({
    name: "storage:partitions",
    cron: "5 * * * *",
    run: async () => {
      const made = await partitions.makeAhead(ctx.clock.now(), storage.partitions_ahead_days);
      if (made.length) storageLogger.info({ partitions: made }, "prediction partitions made ahead");
    },
  });
  scheduler.add({ name: "storage:retention", cron: "17 3 * * *", run: () => retain().then(() => undefined) });
  for (const model of ctx.config.models)
    for (const kind of configuredMonitors(model)) {
      const cron = (model.monitors[kind] as { schedule: string }).schedule;
      scheduler.add({
        name: `monitor:${model.slug}:${kind}`,
        cron,
        run: () => monitoring.runMonitor(model.slug, kind, "schedule"),
      });
    }
  const deadman = createDeadmanSwitch({
    config: ctx.config,
    registry,
    runs,
    lastTraffic: (modelId) => rollupRepo.lastBucket(modelId),
    tickBefore: (cron, now, back) => {
      let tick = latestTick(cron, now);
      for (let i = 0; i < back && tick; i++) tick = latestTick(cron, new Date(tick.getTime() - 1));
      return tick;
    },
    clock: ctx.clock,
    sink: opts.sink,
    logger: ctx.logger.child({ component: "deadman" }),
    watchingSince: ctx.clock.now(),
  });
  scheduler.add({ name: "monitoring:deadman", cron: "* * * * *", run: () => deadman.check() });
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
    labels: (modelId) => labels.health(modelId),
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
      await partitions.makeAhead(ctx.clock.now(), storage.partitions_ahead_days);
      await backfillRollups(db, registry.list(), (m) => rollupLayout(m, maxCategories), storageLogger);
      rollups.start();
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
      await rollups.stop();
      await Promise.allSettled([...pending]);
      await realtime.idle();
    },
    registry,
    ingest,
    monitoring,
    reference,
    scheduler,
    deadman,
    rollups,
    partitions,
    retain,
    ready,
    async idle() {
      while (pending.size) await Promise.allSettled([...pending]);
      await realtime.idle();
    },
  };
}
