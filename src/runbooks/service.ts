import { describePrincipals } from "../access/index.js";
import { createIncidentRepository, formatRef, type Incident, isActive } from "../incidents/index.js";
import { formatDuration } from "../shared/duration.js";
import {
  auditRunbook,
  DEFAULT_LIMITS,
  eventDetail,
  modelOf,
  type PreparedRun,
  placeOf,
  type RunbookDeps,
  type RunbookLimits,
  type RunRequest,
  type StartOutcome,
} from "./deps.js";
import { RunbookError } from "./errors.js";
import { createRunExecution } from "./execution.js";
import {
  type ParamValue,
  RUNBOOK_EVENTS,
  type Runbook,
  type RunbookRun,
  resolveParams,
  suggestFor,
} from "./model.js";
import { recoverInterrupted } from "./recovery.js";
import { createRunbookRepository } from "./repository.js";
import { issueRunToken } from "./run-tokens.js";

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

  const execution = createRunExecution(deps, limits);

  /** The answer to a second start while one runs: which run, since when, and by whom. */
  async function alreadyRunning(runbook: Runbook, incident: Incident | null): Promise<RunbookError> {
    const active = await createRunbookRepository(db).activeFor(runbook.name, incident?.id ?? null);
    const what = `\`${runbook.name}\` is already running${incident ? ` for ${formatRef(incident.id)}` : ""}`;
    if (!active) return new RunbookError("runbook_already_running", `${what}. Nothing new was started.`);
    const since = formatDuration(Math.max(0, clock.now().getTime() - active.startedAt.getTime()));
    const by = /^[UW][A-Z0-9]{2,}$/.test(active.actor) ? `<@${active.actor}>` : active.actor;
    return new RunbookError(
      "runbook_already_running",
      `${what}: run ${active.id}, started by ${by} ${since} ago. Nothing new was started; its result will appear ${incident ? "in the incident's thread" : "in its channel"}.`,
    );
  }

  /** Refuses early (before a confirm dialog opens) when the runbook already runs for the incident. */
  async function refuseIfRunning(runbook: Runbook, incident: Incident | null): Promise<void> {
    const active = await createRunbookRepository(db).activeFor(runbook.name, incident?.id ?? null);
    if (active) throw await alreadyRunning(runbook, incident);
  }

  /** Runs in the background, tracked so stop() can kill it and wait for its record. */
  function launch(
    runbook: Runbook,
    run: RunbookRun,
    values: Record<string, ParamValue>,
    incident: Incident | null,
    token: string | undefined,
  ) {
    const abort = new AbortController();
    running.set(run.id, abort);
    const p = execution
      .execute(runbook, run, values, incident, abort, token)
      .finally(() => running.delete(run.id));
    pending.add(p);
    void p.finally(() => pending.delete(p));
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
          await auditRunbook(tx, req.actor, "runbook.run", runbook.name, "refused", {
            incident: incident ? formatRef(incident.id) : null,
            allowed: decision.principals,
          });
        });
        notifier.wake();
        return { refused: message };
      }
      await refuseIfRunning(runbook, incident);
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
      const started = await db.transaction(async (tx) => {
        const repo = createRunbookRepository(tx);
        // One active run per runbook and incident, held by a unique index: a second click loses here.
        let row = await repo.insertUnlessActive({
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
        if (!row) return undefined;
        const token = runbook.api_token
          ? await issueRunToken(tx, row.id, runbook.api_token.scopes)
          : undefined;
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
        await auditRunbook(tx, req.actor, "runbook.run", `${runbook.name}#${row.id}`, "ok", {
          incident: incident ? formatRef(incident.id) : null,
          params: values,
        });
        return { row, token };
      });
      if (!started) throw await alreadyRunning(runbook, incident);
      notifier.wake();
      launch(runbook, started.row, values, incident, started.token);
      return started.row;
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
    recoverInterrupted: (): Promise<RunbookRun[]> => recoverInterrupted(deps, limits, byName),

    /** Starts refreshing the heartbeat of this process's running runs (and, on Postgres, sweeping dead replicas' runs). */
    startHeartbeat(): void {
      heartbeat ??= setInterval(() => {
        const ids = [...running.keys()];
        if (ids.length)
          createRunbookRepository(db)
            .heartbeat(ids, deps.owner, clock.now())
            .catch((err: unknown) => logger.warn({ err }, "could not refresh runbook heartbeats"));
        // With replicas, one that died mid-run is noticed by the others, not only at the next start.
        if (deps.databaseKind === "postgres")
          recoverInterrupted(deps, limits, byName).catch((err: unknown) =>
            logger.warn({ err }, "could not look for interrupted runbook runs"),
          );
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
