import { isAbsolute, resolve } from "node:path";
import { type AccessControl, describePrincipals } from "../access/index.js";
import { createAuditRepository } from "../audit/index.js";
import type { MlopsConfig } from "../config/index.js";
import type { Db } from "../db/index.js";
import {
  createIncidentRepository,
  formatRef,
  type Incident,
  type IncidentSnapshot,
  isActive,
} from "../incidents/index.js";
import type { Clock } from "../shared/clock.js";
import type { Logger } from "../shared/logger.js";
import { RunbookError } from "./errors.js";
import {
  expandArgv,
  type ParamValue,
  paramEnvName,
  RUNBOOK_EVENTS,
  type Runbook,
  type RunbookRun,
  resolveParams,
  statusOf,
  suggestFor,
} from "./model.js";
import type { CommandRunner, ExecutionResult, RunbookNotifier, RunPlace } from "./ports.js";
import { createRunbookRepository } from "./repository.js";

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

/** Variables every runbook gets besides its allowlist (never secrets). */
const BASE_ENV = ["PATH", "LANG", "LC_ALL", "TZ", "TMPDIR", "HOME"] as const;

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
  /** This process, as written into the runs it owns. */
  owner: string;
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

const MESSAGE_TAIL = 2500;

/** Runbook use cases: who may run what, validated params, the child process, and its records. */
export function createRunbookService(deps: RunbookDeps) {
  const { db, clock, notifier, logger } = deps;
  const limits: RunbookLimits = { ...DEFAULT_LIMITS, ...deps.limits };
  const byName = new Map(deps.runbooks.map((r) => [r.name, r]));
  const running = new Map<number, AbortController>();
  const pending = new Set<Promise<void>>();
  let heartbeat: NodeJS.Timeout | undefined;

  function find(name: string): Runbook {
    const rb = byName.get(name);
    if (!rb) {
      const known = [...byName.keys()].join(", ") || "none";
      throw new RunbookError(
        "runbook_not_found",
        `There is no runbook \`${name.slice(0, 60)}\` (known: ${known}).`,
      );
    }
    return rb;
  }

  function modelDefaults(slug: string | undefined) {
    const m = slug ? deps.config.models.find((x) => x.slug === slug) : undefined;
    if (!m) return {};
    return {
      slug: m.slug,
      ...(m.service_url ? { service_url: m.service_url } : {}),
      ...(m.champion ? { champion: m.champion } : {}),
    };
  }

  function modelOf(runbook: Runbook, incident: Incident | null): string | undefined {
    return incident?.model ?? (runbook.when.models.length === 1 ? runbook.when.models[0] : undefined);
  }

  function placeOf(run: Pick<RunbookRun, "channel">, incident: Incident | null): RunPlace {
    return { channel: incident?.channel ?? run.channel, incident };
  }

  /** The general permission, then the manifest's narrower groups; the principals named on refusal. */
  async function decide(actor: string, runbook: Runbook, model: string | undefined) {
    const general = await deps.access.can(actor, "run_runbooks", model);
    if (!general.allowed) return { allowed: false, principals: general.allowedPrincipals };
    if (!runbook.allowed_groups.length) return { allowed: true, principals: [] };
    const groups = await deps.access.groupsOf(actor);
    const owners = model ? deps.config.models.find((m) => m.slug === model)?.owners : undefined;
    const ok = runbook.allowed_groups.some(
      (p) =>
        p === actor ||
        groups.includes(p) ||
        (p === "owners" && owners !== undefined && groups.includes(owners)),
    );
    return { allowed: ok, principals: runbook.allowed_groups };
  }

  function audit(
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

  function eventDetail(run: RunbookRun) {
    return {
      run: run.id,
      name: run.runbook,
      status: run.status,
      exitCode: run.exitCode,
      durationMs: run.durationMs,
      verify: run.verify ?? null,
    };
  }

  /** The child's environment: a few harmless basics, the allowlist, the params and the run's identity. */
  function childEnv(
    runbook: Runbook,
    run: RunbookRun,
    values: Record<string, ParamValue>,
    model: string | undefined,
  ) {
    const env: Record<string, string> = {};
    for (const key of [...BASE_ENV, ...runbook.env]) {
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
  ) {
    const abort = new AbortController();
    running.set(run.id, abort);
    try {
      const model = modelOf(runbook, incident);
      const env = childEnv(runbook, run, values, model);
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
    } finally {
      running.delete(run.id);
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
      const fresh = incident ? await createIncidentRepository(tx).byId(incident.id) : undefined;
      const place = placeOf(finished, fresh ?? incident);
      const outboxId = await notifier.updateProgress(tx, place, runbook, finished);
      if (finished.output.length > MESSAGE_TAIL) await notifier.uploadOutput(tx, place, finished);
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
      await audit(tx, finished.actor, "runbook.finished", `${runbook.name}#${finished.id}`, "ok", {
        status: finished.status,
        exitCode: finished.exitCode,
        durationMs: finished.durationMs,
        verify: finished.verify,
      });
    });
    notifier.wake();
  }

  return {
    /** Every loaded runbook, or those that apply to a model. */
    list(model?: string): Runbook[] {
      return deps.runbooks.filter((r) => !model || !r.when.models.length || r.when.models.includes(model));
    },

    get: find,

    /** The runbooks whose `when` covers the incident (for the card's buttons). */
    suggest: (incident: Incident): string[] => suggestFor(deps.runbooks, incident),

    /**
     * Checks a request without running anything: the runbook, the incident, the parameters and
     * the permission. A refusal is written (timeline, audit) and told; bad input throws
     * RunbookError and writes nothing.
     */
    async prepare(req: RunRequest): Promise<PreparedRun | { refused: string }> {
      const runbook = find(req.name);
      const incident = req.incidentId ? (await deps.snapshot(req.incidentId)).incident : null;
      if (incident && runbook.when.models.length && !runbook.when.models.includes(incident.model))
        throw new RunbookError(
          "runbook_not_applicable",
          `\`${runbook.name}\` is for ${runbook.when.models.join(", ")}, not for ${incident.model} (${formatRef(incident.id)}).`,
        );
      if (incident && !isActive(incident.state))
        throw new RunbookError("runbook_not_applicable", `${formatRef(incident.id)} is resolved already.`);
      const model = modelOf(runbook, incident);
      const decision = await decide(req.actor, runbook, model);
      if (!decision.allowed) {
        const whoMay = describePrincipals(deps.config, decision.principals, model);
        const message = `You may not run \`${runbook.name}\`: that takes ${whoMay}. Nothing was run.`;
        await db.transaction(async (tx) => {
          const outboxId = await notifier.tell(tx, { channel: req.channel, user: req.actor }, message);
          if (incident)
            await createIncidentRepository(tx).addEvent({
              incidentId: incident.id,
              at: clock.now(),
              kind: RUNBOOK_EVENTS.refused,
              actor: req.actor,
              via: req.via,
              detail: { action: "run_runbook", runbook: runbook.name, allowed: decision.principals },
              outboxId,
            });
          await audit(tx, req.actor, "runbook.run", runbook.name, "refused", {
            incident: incident ? formatRef(incident.id) : null,
            allowed: decision.principals,
          });
        });
        notifier.wake();
        return { refused: message };
      }
      const params = resolveParams(runbook.params, req.given, modelDefaults(model));
      if (!params.ok) {
        const lines = Object.entries(params.problems).map(([k, p]) => `• \`${k}\`: ${p}`);
        throw new RunbookError(
          "runbook_invalid_params",
          `Nothing was run; the parameters are not right:\n${lines.join("\n")}`,
          params.problems,
        );
      }
      return { runbook, incident, values: params.values };
    },

    /**
     * Starts a prepared run: the run row, its `runbook_started` event, the audit entry and the
     * progress message commit together; the child process starts after the commit.
     */
    async start(
      prepared: PreparedRun,
      req: Pick<RunRequest, "actor" | "via" | "channel">,
    ): Promise<RunbookRun> {
      const { runbook, incident, values } = prepared;
      const now = clock.now();
      const run = await db.transaction(async (tx) => {
        const repo = createRunbookRepository(tx);
        let row = await repo.insert({
          runbook: runbook.name,
          incidentId: incident?.id ?? null,
          model: modelOf(runbook, incident) ?? null,
          actor: req.actor,
          via: req.via,
          params: values,
          status: "running",
          startedAt: now,
          owner: deps.owner,
          heartbeatAt: now,
          channel: incident?.channel ?? req.channel,
        });
        const progressId = await notifier.postProgress(tx, placeOf(row, incident), runbook, row);
        row = await repo.update(row.id, { progressOutboxId: progressId });
        if (incident)
          await createIncidentRepository(tx).addEvent({
            incidentId: incident.id,
            at: now,
            kind: RUNBOOK_EVENTS.started,
            actor: req.actor,
            via: req.via,
            detail: { ...eventDetail(row), params: values },
            outboxId: progressId,
          });
        await audit(tx, req.actor, "runbook.run", `${runbook.name}#${row.id}`, "ok", {
          incident: incident ? formatRef(incident.id) : null,
          params: values,
        });
        return row;
      });
      notifier.wake();
      const p = execute(runbook, run, values, incident);
      pending.add(p);
      void p.finally(() => pending.delete(p));
      return run;
    },

    /** `prepare` then `start`. */
    async run(req: RunRequest): Promise<StartOutcome> {
      const prepared = await this.prepare(req);
      if ("refused" in prepared) return { outcome: "refused", message: prepared.refused };
      return { outcome: "started", run: await this.start(prepared, req) };
    },

    /**
     * Marks `interrupted` the runs a dead process left `running` and says so in their threads.
     * On PGlite every such run is dead (one process per data directory); on Postgres only those
     * whose heartbeat stopped, since another replica may be running the rest.
     */
    async recoverInterrupted(): Promise<RunbookRun[]> {
      const now = clock.now();
      const stale =
        deps.databaseKind === "pglite" ? undefined : new Date(now.getTime() - limits.staleAfterMs);
      const runs = await db.transaction(async (tx) => {
        const found = await createRunbookRepository(tx).interruptOrphans(now, stale);
        const host = deps.owner.split(":")[0];
        for (const run of found) {
          // Its program may outlive the bot (it leads its own process group): end it when it is ours.
          const ended =
            run.pid !== null && run.owner.split(":")[0] === host
              ? deps.runner.endOrphan(run.pid, `MLOPS_RUN_ID=${run.id}`)
              : false;
          const incident = run.incidentId
            ? ((await createIncidentRepository(tx).byId(run.incidentId)) ?? null)
            : null;
          const place = placeOf(run, incident);
          const outboxId = await notifier.updateProgress(tx, place, byName.get(run.runbook), run);
          await notifier.reply(
            tx,
            place,
            `:warning: Runbook \`${run.runbook}\` (run ${run.id}) was *interrupted*: the bot stopped while it ran, so its result is unknown${ended ? " (its program, still running, was stopped now)" : ""}. Check before running it again.`,
          );
          if (incident)
            await createIncidentRepository(tx).addEvent({
              incidentId: incident.id,
              at: now,
              kind: RUNBOOK_EVENTS.finished,
              actor: run.actor,
              via: "schedule",
              detail: eventDetail(run),
              outboxId,
            });
          await audit(tx, "system", "runbook.interrupted", `${run.runbook}#${run.id}`, "error", {
            owner: run.owner,
            programEnded: ended,
          });
        }
        return found;
      });
      if (runs.length) {
        logger.warn(
          { runs: runs.map((r) => r.id) },
          "runbook runs left running by a stopped process marked interrupted",
        );
        notifier.wake();
      }
      return runs;
    },

    /** Starts refreshing the heartbeat of this process's running runs. */
    startHeartbeat(): void {
      heartbeat ??= setInterval(() => {
        const ids = [...running.keys()];
        if (!ids.length) return;
        createRunbookRepository(db)
          .heartbeat(ids, deps.owner, clock.now())
          .catch((err: unknown) => logger.warn({ err }, "could not refresh runbook heartbeats"));
      }, limits.heartbeatMs);
      heartbeat.unref();
    },

    /** Kills running programs (recorded as interrupted) and waits for their records. */
    async stop(): Promise<void> {
      if (heartbeat) clearInterval(heartbeat);
      heartbeat = undefined;
      for (const abort of running.values()) abort.abort();
      while (pending.size) await Promise.allSettled([...pending]);
    },

    /** Resolves when every started run has finished and been recorded (tests). */
    async idle(): Promise<void> {
      while (pending.size) await Promise.allSettled([...pending]);
    },

    /** A run by id. */
    runById: (id: number) => createRunbookRepository(db).byId(id),
    /** Runs newest first. */
    recent: (opts: { incidentId?: number; limit?: number } = {}) => createRunbookRepository(db).recent(opts),
  };
}

/** The runbook service. */
export type RunbookService = ReturnType<typeof createRunbookService>;
