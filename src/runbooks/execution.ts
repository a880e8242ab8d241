import { isAbsolute, resolve } from "node:path";
import {
  createIncidentRepository,
  formatRef,
  type Incident,
  type IncidentSnapshot,
} from "../incidents/index.js";
import { auditRunbook, eventDetail, modelOf, placeOf, type RunbookDeps, type RunbookLimits } from "./deps.js";
import {
  expandArgv,
  FORBIDDEN_ENV,
  type ParamValue,
  paramEnvName,
  RUNBOOK_EVENTS,
  type Runbook,
  type RunbookRun,
  statusOf,
} from "./model.js";
import type { ExecutionResult } from "./ports.js";
import { createRunbookRepository } from "./repository.js";
import { revokeRunToken } from "./run-tokens.js";

/** Variables every runbook gets besides its allowlist (never secrets). */
const BASE_ENV = ["PATH", "LANG", "LC_ALL", "TZ", "TMPDIR", "HOME"] as const;

/**
 * Runs a started run: its program with an explicit environment and the incident context on stdin,
 * then its verify when it succeeded, and records the result (run row, timeline, audit, the
 * progress message edited in place, the full output as a file when it is long) in one transaction.
 */
export function createRunExecution(deps: RunbookDeps, limits: RunbookLimits) {
  const { db, clock, notifier, logger } = deps;

  /** The child's environment: a few harmless basics, the allowlist, the params and the run's identity. */
  function childEnv(
    runbook: Runbook,
    run: RunbookRun,
    values: Record<string, ParamValue>,
    model: string | undefined,
    token: string | undefined,
  ) {
    const env: Record<string, string> = {};
    for (const key of [...BASE_ENV, ...runbook.env]) {
      // The manifest check refuses these already; a hand-built runbook must not get them either.
      if ((FORBIDDEN_ENV as readonly string[]).includes(key)) continue;
      const v = deps.hostEnv[key];
      if (v !== undefined) env[key] = v;
    }
    env.PATH ??= "/usr/local/bin:/usr/bin:/bin";
    for (const [k, v] of Object.entries(values)) env[paramEnvName(k)] = String(v);
    env.MLOPS_RUNBOOK = runbook.name;
    env.MLOPS_RUN_ID = String(run.id);
    if (run.incidentId) env.MLOPS_INCIDENT = formatRef(run.incidentId);
    if (model) env.MLOPS_MODEL = model;
    const self = deps.selfUrl?.();
    if (self) env.MLOPS_URL = self;
    if (token) env.MLOPS_RUN_TOKEN = token;
    return env;
  }

  function program(runbook: Runbook, argv: string[]): string[] {
    const [first, ...rest] = argv;
    if (first === "node") return [process.execPath, ...rest];
    if (first?.includes("/") && !isAbsolute(first)) return [resolve(runbook.dir, first), ...rest];
    return argv;
  }

  async function contextJson(
    runbook: Runbook,
    run: RunbookRun,
    values: Record<string, ParamValue>,
    incident: Incident | null,
  ) {
    const model = modelOf(runbook, incident);
    const m = model ? deps.config.models.find((x) => x.slug === model) : undefined;
    let alert: IncidentSnapshot["alert"] | undefined;
    if (incident) alert = (await deps.snapshot(incident.id).catch(() => undefined))?.alert;
    return JSON.stringify({
      run: run.id,
      runbook: runbook.name,
      params: values,
      actor: run.actor,
      model: m
        ? {
            slug: m.slug,
            name: m.name,
            version: incident?.modelVersion ?? m.champion ?? null,
            service_url: m.service_url ?? null,
          }
        : null,
      incident: incident
        ? {
            ref: formatRef(incident.id),
            title: incident.title,
            state: incident.state,
            severity: incident.severity,
            monitor: incident.monitor,
            subject: incident.subject,
            version: incident.modelVersion,
            numbers: alert?.metrics ?? {},
            rule: alert?.rule ?? null,
            labels: alert?.labels ?? {},
          }
        : null,
    });
  }

  async function exec(
    runId: number,
    runbook: Runbook,
    argv: string[],
    env: Record<string, string>,
    stdin: string,
    signal: AbortSignal,
  ): Promise<ExecutionResult> {
    return deps.runner.run({
      argv: program(runbook, argv),
      cwd: runbook.dir,
      env,
      stdin,
      timeoutMs: runbook.timeout,
      killGraceMs: limits.killGraceMs,
      maxOutputBytes: limits.maxOutputBytes,
      signal,
      onSpawn: (pid) => {
        createRunbookRepository(db)
          .update(runId, { pid })
          .catch((err: unknown) => logger.warn({ err, run: runId }, "could not record a runbook's pid"));
      },
    });
  }

  /** Runs the program (and its verify when it succeeded), then records and posts the result. */
  async function execute(
    runbook: Runbook,
    run: RunbookRun,
    values: Record<string, ParamValue>,
    incident: Incident | null,
    abort: AbortController,
    token?: string,
  ) {
    try {
      const model = modelOf(runbook, incident);
      const env = childEnv(runbook, run, values, model, token);
      const stdin = await contextJson(runbook, run, values, incident);
      const main = await exec(run.id, runbook, expandArgv(runbook.run, values), env, stdin, abort.signal);
      const status = statusOf({ exitCode: main.exitCode, timedOut: main.timedOut, aborted: main.aborted });
      let verify: ExecutionResult | undefined;
      if (status === "succeeded" && runbook.verify)
        verify = await exec(run.id, runbook, expandArgv(runbook.verify, values), env, stdin, abort.signal);
      const verifyStatus = verify
        ? verify.exitCode === 0 && !verify.timedOut && !verify.aborted
          ? "passed"
          : "failed"
        : null;
      await record(runbook, run, incident, {
        status: verify?.aborted ? "interrupted" : status,
        exitCode: main.exitCode,
        signal: main.signal,
        durationMs: main.durationMs,
        output: main.output,
        outputOmitted: main.omittedBytes,
        verify: verifyStatus,
        verifyExitCode: verify?.exitCode ?? null,
        verifyOutput: verify?.output.slice(-8000) ?? null,
      });
    } catch (err) {
      logger.error({ err, run: run.id, runbook: runbook.name }, "runbook run failed inside the bot");
      await record(runbook, run, incident, {
        status: "failed",
        output: `the bot could not run it: ${(err as Error).message}`,
      }).catch((e: unknown) =>
        logger.error({ err: e, run: run.id }, "could not record a failed runbook run"),
      );
    }
  }

  async function record(
    runbook: Runbook,
    run: RunbookRun,
    incident: Incident | null,
    patch: Partial<RunbookRun>,
  ) {
    await db.transaction(async (tx) => {
      const repo = createRunbookRepository(tx);
      const finished = await repo.finish(run.id, {
        ...patch,
        finishedAt: clock.now(),
        heartbeatAt: clock.now(),
      });
      if (!finished) return; // marked interrupted meanwhile by a sweep: that one reported it
      await revokeRunToken(tx, finished.id, clock.now());
      const fresh = incident ? await createIncidentRepository(tx).byId(incident.id) : undefined;
      const place = placeOf(finished, fresh ?? incident);
      const outboxId = await notifier.updateProgress(tx, place, runbook, finished);
      await notifier.uploadOutput(tx, place, finished); // only when it does not fit the message
      if (finished.incidentId) {
        await createIncidentRepository(tx).addEvent({
          incidentId: finished.incidentId,
          at: clock.now(),
          kind: RUNBOOK_EVENTS.finished,
          actor: finished.actor,
          via: finished.via,
          detail: eventDetail(finished),
          outboxId,
        });
      }
      await auditRunbook(tx, finished.actor, "runbook.finished", `${runbook.name}#${finished.id}`, "ok", {
        status: finished.status,
        exitCode: finished.exitCode,
        durationMs: finished.durationMs,
        verify: finished.verify,
      });
    });
    notifier.wake();
  }

  return { execute };
}
