/**
 * Monitoring use cases: run a model's monitors (scheduled, on demand, real time), record every
 * run in `monitor_runs`, and send firing and resolved signals through the AlertSink.
 */
import type { MlopsConfig, ModelConfig } from "../config/index.js";
import type { ModelRegistry, RegisteredModel } from "../models/index.js";
import { segmentFeatures } from "../rollups/segments.js";
import type { AlertSignal, AlertSink } from "../shared/alert-signal.js";
import type { Clock } from "../shared/clock.js";
import type { Logger } from "../shared/logger.js";
import type { EmbeddingSampleRepository } from "./embedding-samples.js";
import { findingCharts, HISTORY_RUNS } from "./finding-charts.js";
import {
  configuredMonitors,
  type Finding,
  type MonitorKind,
  type MonitorOutcome,
  type MonitorRun,
  type RunTrigger,
  resolvedSubjects,
  severityOf,
} from "./model.js";
import { runConfidence } from "./monitors/confidence.js";
import type { MonitorContext } from "./monitors/context.js";
import { runDataQuality } from "./monitors/data-quality.js";
import { runDrift } from "./monitors/drift.js";
import { runMultivariate } from "./monitors/multivariate-run.js";
import { runPerformance } from "./monitors/performance.js";
import { runProbe } from "./monitors/probe.js";
import type { ModelServiceClient } from "./ports.js";
import type { ReferenceProfile } from "./profile.js";
import type { MonitoringRepository } from "./repository.js";
import { runOnSegment, segmentFilter, withSegments } from "./segments.js";
import type { WindowRepository } from "./window-repository.js";

/** What the monitoring service is built from. */
export interface MonitoringDeps {
  config: MlopsConfig;
  registry: ModelRegistry;
  runs: MonitoringRepository;
  windows: WindowRepository;
  clock: Clock;
  sink: AlertSink;
  services: ModelServiceClient;
  logger: Logger;
  /** The segments of a model with data in [from, to) (rollups); absent: monitors run globally only. */
  segmentsIn?: (modelId: number, from: Date, to: Date) => Promise<string[]>;
  /** The embedding sample (the multivariate monitor's domain classifier reads it); absent: no classifier. */
  samples?: EmbeddingSampleRepository;
}

/**
 * The alert signal of a monitor's finding (also the dead-man's switch's). `dataFrom` is the start
 * of the run's data window, when it has one: the earliest the bad data can have begun.
 */
export function findingSignal(
  config: Pick<MlopsConfig, "alerting" | "models">,
  model: RegisteredModel,
  monitor: string,
  f: Finding,
  status: "firing" | "resolved",
  runId: number,
  at: Date,
  dataFrom?: Date,
): AlertSignal {
  return {
    source: "monitor",
    model: model.slug,
    monitor,
    subject: f.subject,
    status,
    severity: severityOf(config, model.slug, f),
    title: status === "firing" ? f.title : `Resolved: ${f.title}`,
    // The rule travels in its own field; the card shows it once, beside the numbers.
    summary: `*${f.title}*`,
    metrics: f.metrics,
    rule: f.rule,
    observedAt: at,
    monitorRunId: runId,
    ...(dataFrom ? { dataFrom } : {}),
  };
}

/** The monitoring service. */
export function createMonitoringService(deps: MonitoringDeps) {
  const { registry, runs, clock, sink, logger } = deps;
  const configOf = (slug: string): ModelConfig => {
    const c = deps.config.models.find((m) => m.slug === slug);
    if (!c) throw new Error(`no config for ${slug}`);
    return c;
  };

  async function evaluate(ctx: MonitorContext, kind: MonitorKind): Promise<MonitorOutcome> {
    const m = ctx.config.monitors;
    switch (kind) {
      case "confidence":
        return m.confidence ? runConfidence(ctx, m.confidence) : off();
      case "drift":
        return m.drift ? runDrift(ctx, m.drift) : off();
      case "data_quality":
        return m.data_quality ? runDataQuality(ctx, m.data_quality) : off();
      case "multivariate":
        return m.multivariate ? runMultivariate(ctx, m.multivariate) : off();
      case "performance":
        return m.performance ? runPerformance(ctx, m.performance) : off();
      case "probe":
        return m.probe ? runProbe(ctx, m.probe) : off();
    }
  }
  const off = (): MonitorOutcome => ({
    status: "skipped",
    window: null,
    rows: 0,
    metrics: {},
    rule: "",
    findings: [],
    note: "monitor not configured",
  });

  /** Records an outcome and sends its signals; resolved ones for subjects that fired last time. */
  async function record(
    model: RegisteredModel,
    kind: MonitorKind,
    trigger: RunTrigger,
    outcome: MonitorOutcome,
    profile: { id: number; profile: ReferenceProfile } | null,
    startedAt: Date,
    durationMs: number,
  ): Promise<MonitorRun> {
    const profileId = profile?.id ?? null;
    const previous = (await runs.lastDecisive(model.id, kind))?.findings;
    const id = await runs.insertRun({
      modelId: model.id,
      monitor: kind,
      trigger,
      outcome,
      profileId,
      startedAt,
      durationMs,
    });
    // A spot check of one segment raises what it finds but resolves nothing it did not look at.
    const resolved = outcome.metrics.segment_only ? [] : resolvedSubjects(previous, outcome);
    // Charts are built only for runs that fire; a failure to build one never holds back the alert.
    const history = outcome.findings.length
      ? await runs.latestRuns(model.id, kind, HISTORY_RUNS).catch((err: unknown) => {
          logger.warn({ err, model: model.slug, monitor: kind }, "could not read run history for charts");
          return [];
        })
      : [];
    const chartsOf = (f: Finding) => {
      try {
        return findingCharts(kind, f, outcome, history, profile?.profile ?? null);
      } catch (err) {
        logger.warn({ err, model: model.slug, monitor: kind }, "could not build the finding's charts");
        return [];
      }
    };
    const signals = [
      ...outcome.findings.map((f) => ({
        ...findingSignal(deps.config, model, kind, f, "firing", id, startedAt, outcome.window?.from),
        charts: chartsOf(f),
      })),
      ...resolved.map((s) =>
        findingSignal(
          deps.config,
          model,
          kind,
          (previous ?? []).find((f) => f.subject === s) as Finding,
          "resolved",
          id,
          startedAt,
        ),
      ),
    ];
    // A decisive run is handed over even without signals: it counts as a clean run for the
    // findings of this monitor that recovered (alerting.resolve_after).
    const decisive = outcome.status !== "error" && outcome.status !== "skipped";
    if (signals.length || decisive)
      await sink
        .emit(signals, decisive ? { model: model.slug, monitor: kind, runId: id } : undefined)
        .catch((err: unknown) =>
          logger.error({ err, model: model.slug, monitor: kind }, "could not hand alert signals to the sink"),
        );
    const { evidence: _charts, ...measured } = outcome;
    return { ...measured, id, model: model.slug, monitor: kind, trigger, profileId, startedAt, durationMs };
  }

  /** The monitor on its segments too (when `by_segment`), or on the one segment asked for. */
  async function evaluateScoped(
    ctx: MonitorContext,
    kind: MonitorKind,
    segment?: string,
  ): Promise<MonitorOutcome> {
    const byCtx = (c: MonitorContext) => evaluate(c, kind);
    const list = deps.segmentsIn;
    if (segment !== undefined) {
      const known = list ? await list(ctx.model.id, new Date(0), new Date(ctx.now.getTime() + 1)) : [];
      const filter = segmentFilter(ctx.model, segment, known);
      const features = segmentFeatures(ctx.config.segments);
      if (!filter || !features.includes(filter.key.split("=")[0] as string))
        throw new Error(
          `unknown segment '${segment}': expected <feature>=<value> with a segment feature of ${ctx.model.slug} (${features.join(", ") || "none configured"})`,
        );
      const out = await runOnSegment(ctx, filter, byCtx);
      return { ...out, metrics: { ...out.metrics, segment_only: filter.key } };
    }
    const global = await evaluate(ctx, kind);
    const cfg = ctx.config.monitors[kind] as { by_segment?: boolean } | undefined;
    if (!cfg?.by_segment || !list || !global.window || ctx.config.segments.length === 0) return global;
    const segments = await list(ctx.model.id, global.window.from, global.window.to);
    return withSegments(ctx, kind, global, segments, byCtx);
  }

  /**
   * Runs one monitor now and records it; a failure is recorded as an `error` run, never thrown.
   * With `segment` (`country=DE`) it runs on that segment only.
   */
  async function runMonitor(
    slug: string,
    kind: MonitorKind,
    trigger: RunTrigger,
    segment?: string,
  ): Promise<MonitorRun> {
    const model = registry.get(slug);
    const startedAt = clock.now();
    const t0 = performance.now();
    let outcome: MonitorOutcome;
    let profile: { id: number; profile: ReferenceProfile } | null = null;
    try {
      const [latest, previous] = await Promise.all([
        runs.latestProfile(model.id),
        runs.lastDecisive(model.id, kind),
      ]);
      profile = latest;
      outcome = await evaluateScoped(
        {
          model,
          config: configOf(slug),
          profile,
          windows: deps.windows,
          now: startedAt,
          services: deps.services,
          trigger,
          previous,
          ...(deps.samples ? { samples: deps.samples } : {}),
        },
        kind,
        segment,
      );
    } catch (err) {
      logger.error({ err, model: slug, monitor: kind }, "monitor run failed");
      outcome = {
        status: "error",
        window: null,
        rows: 0,
        metrics: {},
        rule: "",
        findings: [],
        note: (err as Error).message.slice(0, 500),
      };
    }
    return record(model, kind, trigger, outcome, profile, startedAt, performance.now() - t0);
  }

  return {
    runMonitor,
    /** Runs every configured monitor of a model (or of one of its segments), in check order. */
    async runAll(slug: string, trigger: RunTrigger, segment?: string): Promise<MonitorRun[]> {
      const out: MonitorRun[] = [];
      for (const kind of configuredMonitors(configOf(slug))) {
        if (segment !== undefined && kind === "probe") continue;
        out.push(await runMonitor(slug, kind, trigger, segment));
      }
      return out;
    },
    /** Records a real-time finding (a burst seen on ingest) as a run of `kind`. */
    async recordRealtime(
      slug: string,
      kind: MonitorKind,
      finding: Finding,
      metrics: Record<string, unknown>,
    ): Promise<MonitorRun> {
      const model = registry.get(slug);
      const at = clock.now();
      const outcome: MonitorOutcome = {
        status: "alert",
        window: null,
        rows: 0,
        metrics,
        rule: finding.rule,
        findings: [finding],
      };
      return record(model, kind, "realtime", outcome, null, at, 0);
    },
    /** The newest runs of each monitor of a model (for status and trend). */
    recent: (slug: string, perMonitor = 8) => runs.recentRuns(registry.get(slug).id, perMonitor),
    configOf,
  };
}

/** The monitoring service. */
export type MonitoringService = ReturnType<typeof createMonitoringService>;
