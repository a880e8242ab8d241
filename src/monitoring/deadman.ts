/**
 * The dead-man's switch: notices monitoring that stopped, which no monitor can report about
 * itself. A monitor whose newest finished scheduled run is older than two of its intervals, or a
 * model with `expect_traffic_within` whose newest prediction (read from the rollups, never from
 * the raw rows) is older than that, becomes a finding of the `deadman` pseudo-monitor, with its own
 * fingerprint per model and subject, sent through the AlertSink like any other finding. When runs
 * or traffic resume, the next check sends it resolved.
 *
 * A check is recorded in `monitor_runs` (monitor `deadman`), and its signals sent, only when what is
 * silent changes, or every `REFIRE_EVERY_MS` while it stays so: a healthy deployment adds no rows,
 * and a silent monitor does not post into its thread every minute.
 */
import type { MlopsConfig, ModelConfig } from "../config/index.js";
import type { ModelRegistry, RegisteredModel } from "../models/index.js";
import type { AlertSink } from "../shared/alert-signal.js";
import type { Clock } from "../shared/clock.js";
import { formatDuration } from "../shared/duration.js";
import type { Logger } from "../shared/logger.js";
import {
  configuredMonitors,
  DEADMAN_MONITOR,
  type Finding,
  type MonitorKind,
  type MonitorOutcome,
  resolvedSubjects,
} from "./model.js";
import type { MonitoringRepository } from "./repository.js";
import { findingSignal } from "./service.js";

/** The subject of a model's traffic finding. */
export const TRAFFIC_SUBJECT = "traffic";

/** While the same things stay silent, the finding is sent again (and recorded) this often. */
export const REFIRE_EVERY_MS = 15 * 60_000;

/** A rollup bucket covers this much time after its start. */
const BUCKET_MS = 60_000;

/** What the switch reads and where it reports. */
export interface DeadmanDeps {
  config: MlopsConfig;
  registry: ModelRegistry;
  runs: Pick<MonitoringRepository, "lastScheduledRun" | "lastDecisive" | "insertRun">;
  /** Start of the newest rollup bucket of a model (its newest prediction's minute), or null. */
  lastTraffic(modelId: number): Promise<Date | null>;
  /** The schedule's tick `back` ticks before its latest at or before `now` (0: the latest); null if none. */
  tickBefore(cron: string, now: Date, back: number): Date | null;
  clock: Clock;
  sink: AlertSink;
  logger: Logger;
  /** Monitors that never ran and models that never had traffic are measured from here (the process start). */
  watchingSince: Date;
}

/** One model's check. */
export interface DeadmanCheck {
  model: string;
  findings: Finding[];
  resolved: string[];
  runId: number | null;
}

/** The findings of one model at `now`: silent monitors and missing traffic. */
export async function silentParts(
  deps: Omit<DeadmanDeps, "sink" | "logger" | "clock" | "config" | "registry" | "runs"> & {
    runs: Pick<MonitoringRepository, "lastScheduledRun">;
  },
  model: RegisteredModel,
  config: ModelConfig,
  now: Date,
): Promise<Finding[]> {
  const findings: Finding[] = [];
  for (const kind of configuredMonitors(config)) {
    const cron = (config.monitors[kind] as { schedule: string }).schedule;
    // The run of tick `b` should have finished by now; when even that one is missing (and the one
    // of tick `a` has not finished either), the monitor has been silent for two intervals.
    const a = deps.tickBefore(cron, now, 0);
    const b = deps.tickBefore(cron, now, 1);
    if (!a || !b) continue;
    const last = await deps.runs.lastScheduledRun(model.id, kind);
    const since = last ?? deps.watchingSince;
    if (since.getTime() >= b.getTime()) continue;
    findings.push(silentMonitor(model, kind, last, since, now, a.getTime() - b.getTime()));
  }
  const within = config.expect_traffic_within;
  if (within !== undefined) {
    const bucket = await deps.lastTraffic(model.id);
    const last = bucket ? new Date(bucket.getTime() + BUCKET_MS) : null;
    const since = last ?? deps.watchingSince;
    if (now.getTime() - since.getTime() > within) findings.push(noTraffic(model, last, since, now, within));
  }
  return findings;
}

function silentMonitor(
  model: RegisteredModel,
  kind: MonitorKind,
  last: Date | null,
  since: Date,
  now: Date,
  intervalMs: number,
): Finding {
  const silent = now.getTime() - since.getTime();
  return {
    subject: kind,
    severityRule: "deadman",
    title: last
      ? `The ${kind} monitor of ${model.slug} has not run for ${formatDuration(silent)}`
      : `The ${kind} monitor of ${model.slug} has not run since the bot started ${formatDuration(silent)} ago`,
    metrics: {
      last_run_at: last?.toISOString() ?? null,
      silent_s: Math.round(silent / 1000),
      interval_s: Math.round(intervalMs / 1000),
    },
    rule: `no finished scheduled run for 2 intervals of its schedule (${formatDuration(intervalMs)} each)`,
  };
}

function noTraffic(
  model: RegisteredModel,
  last: Date | null,
  since: Date,
  now: Date,
  within: number,
): Finding {
  const silent = now.getTime() - since.getTime();
  return {
    subject: TRAFFIC_SUBJECT,
    severityRule: "deadman",
    title: last
      ? `No predictions from ${model.slug} for ${formatDuration(silent)}`
      : `No predictions from ${model.slug} since the bot started ${formatDuration(silent)} ago`,
    metrics: {
      last_prediction_at: last?.toISOString() ?? null,
      silent_s: Math.round(silent / 1000),
      expected_within_s: Math.round(within / 1000),
    },
    rule: `a prediction ingested within expect_traffic_within (${formatDuration(within)})`,
  };
}

/** Creates the dead-man's switch. */
export function createDeadmanSwitch(deps: DeadmanDeps) {
  async function checkModel(config: ModelConfig, now: Date): Promise<DeadmanCheck> {
    const model = deps.registry.get(config.slug);
    const findings = await silentParts(deps, model, config, now);
    const last = await deps.runs.lastDecisive(model.id, DEADMAN_MONITOR);
    const previous = last?.findings ?? [];
    const same =
      findings.length === previous.length &&
      findings.every((f) => previous.some((p) => p.subject === f.subject));
    const due = !last || now.getTime() - last.startedAt.getTime() >= REFIRE_EVERY_MS;
    if (same && (findings.length === 0 || !due))
      return { model: model.slug, findings, resolved: [], runId: null };
    const outcome: MonitorOutcome = {
      status: findings.length ? "alert" : "ok",
      window: null,
      rows: 0,
      metrics: { silent: findings.map((f) => f.subject).join(",") },
      rule: "each monitor runs within 2 of its intervals; traffic arrives within expect_traffic_within",
      findings,
    };
    const resolved = resolvedSubjects(previous, outcome);
    const runId = await deps.runs.insertRun({
      modelId: model.id,
      monitor: DEADMAN_MONITOR,
      trigger: "schedule",
      outcome,
      profileId: null,
      startedAt: now,
      durationMs: 0,
    });
    const signals = [
      ...findings.map((f) => findingSignal(deps.config, model, DEADMAN_MONITOR, f, "firing", runId, now)),
      ...resolved.map((s) =>
        findingSignal(
          deps.config,
          model,
          DEADMAN_MONITOR,
          previous.find((f) => f.subject === s) as Finding,
          "resolved",
          runId,
          now,
        ),
      ),
    ];
    if (signals.length) await deps.sink.emit(signals);
    if (findings.length)
      deps.logger.warn(
        { model: model.slug, silent: findings.map((f) => f.subject) },
        "dead-man's switch: monitoring of a model went silent",
      );
    return { model: model.slug, findings, resolved, runId };
  }

  return {
    /** Checks every model now; a model whose check fails is logged and the others still checked. */
    async check(): Promise<DeadmanCheck[]> {
      const now = deps.clock.now();
      const out: DeadmanCheck[] = [];
      for (const config of deps.config.models) {
        try {
          out.push(await checkModel(config, now));
        } catch (err) {
          deps.logger.error({ err, model: config.slug }, "dead-man's switch could not check a model");
        }
      }
      return out;
    },
  };
}

/** The dead-man's switch. */
export type DeadmanSwitch = ReturnType<typeof createDeadmanSwitch>;
