import type { AccessControl } from "../access/index.js";
import { createAuditRepository } from "../audit/index.js";
import type { MlopsConfig } from "../config/index.js";
import type { Db } from "../db/index.js";
import type { Incident, IncidentSnapshot } from "../incidents/index.js";
import type { Clock } from "../shared/clock.js";
import type { Logger } from "../shared/logger.js";
import type { ParamValue, Runbook, RunbookRun } from "./model.js";
import type { CommandRunner, RunbookNotifier, RunPlace } from "./ports.js";

/** Limits of the executor; the defaults suit production, tests shorten them. */
export interface RunbookLimits {
  /** Output kept per run (head and tail halves). */
  maxOutputBytes: number;
  /** Between SIGTERM and SIGKILL on timeout. */
  killGraceMs: number;
  /** How often a running run's heartbeat is refreshed. */
  heartbeatMs: number;
  /** On Postgres, a running run whose heartbeat is older than this at start is a dead replica's. */
  staleAfterMs: number;
}

/** Defaults of `RunbookLimits`. */
export const DEFAULT_LIMITS: RunbookLimits = {
  maxOutputBytes: 256 * 1024,
  killGraceMs: 3000,
  heartbeatMs: 10_000,
  staleAfterMs: 60_000,
};

/** What the runbook services need; wired once by the feature. */
export interface RunbookDeps {
  db: Db;
  clock: Clock;
  config: MlopsConfig;
  access: Pick<AccessControl, "can" | "groupsOf">;
  notifier: RunbookNotifier;
  runner: CommandRunner;
  logger: Logger;
  runbooks: readonly Runbook[];
  /** The incident and its alert (for the numbers that fired). */
  snapshot: (incidentId: number) => Promise<IncidentSnapshot>;
  /** The bot's environment, from which the manifests' `env` allowlists take values. */
  hostEnv: Readonly<Record<string, string | undefined>>;
  /** The bot's own base URL (MLOPS_URL for scripts calling its API), once it listens. */
  selfUrl?: () => string | undefined;
  /** This process, as written into the runs it owns (its liveness id in the bot). */
  owner: string;
  /**
   * The liveness heartbeat of the processes: a run whose owner missed two of them is a dead
   * replica's and is marked interrupted at once. Without it, only `staleAfterMs` applies.
   */
  livenessHeartbeatMs?: number | undefined;
  /** Postgres (several replicas) or PGlite (one process). */
  databaseKind: "postgres" | "pglite";
  limits?: Partial<RunbookLimits>;
}

/** Someone asks to run a runbook. */
export interface RunRequest {
  name: string;
  incidentId?: number | undefined;
  /** Parameter values as typed (strings); validated against the manifest. */
  given: Record<string, string>;
  actor: string;
  via: "button" | "modal" | "command";
  /** Where they asked (for ephemerals, and the progress message when there is no incident). */
  channel: string;
}

/** A request that passed every check: what will run. */
export interface PreparedRun {
  runbook: Runbook;
  incident: Incident | null;
  values: Record<string, ParamValue>;
}

/** How a request went: started, or refused with the message that was told. */
export type StartOutcome = { outcome: "started"; run: RunbookRun } | { outcome: "refused"; message: string };

/** The model a run concerns: the incident's, or the one model the runbook is for. */
export function modelOf(runbook: Runbook, incident: Incident | null): string | undefined {
  return incident?.model ?? (runbook.when.models.length === 1 ? runbook.when.models[0] : undefined);
}

/** Where a run's messages go: the incident's thread, else the channel it was started from. */
export function placeOf(run: Pick<RunbookRun, "channel">, incident: Incident | null): RunPlace {
  return { channel: incident?.channel ?? run.channel, incident };
}

/** The timeline data of `runbook_started` / `runbook_finished` (escalation's L2 page reads it). */
export function eventDetail(run: RunbookRun) {
  return {
    run: run.id,
    name: run.runbook,
    status: run.status,
    exitCode: run.exitCode,
    durationMs: run.durationMs,
    verify: run.verify ?? null,
  };
}

/** Writes one audit record in `tx`. */
export function auditRunbook(
  tx: Db,
  actor: string,
  action: string,
  target: string,
  outcome: "ok" | "refused" | "error",
  detail: Record<string, unknown>,
) {
  return createAuditRepository(tx).record({
    source: /^[UW][A-Z0-9]{2,}$/.test(actor) ? "slack" : "system",
    actor,
    action,
    target,
    outcome,
    detail,
  });
}
