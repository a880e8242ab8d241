import { createHash } from "node:crypto";
import { describePrincipals } from "../access/index.js";
import { createIncidentRepository, formatRef } from "../incidents/index.js";
import {
  cardOf,
  championOf,
  incidentRefOf,
  modelChannel,
  modelNameOf,
  type RetrainingDeps,
  type RetrainVia,
  record,
  retrainingOf,
} from "./deps.js";
import { RetrainingError } from "./errors.js";
import {
  type Candidate,
  candidateReportSchema,
  evaluateCandidate,
  formatRequestRef,
  type RetrainRequest,
  requiredMetrics,
} from "./model.js";
import type { ThreadTarget } from "./ports.js";
import { queueVersionLookup } from "./registry-effects.js";
import { createRetrainingRepository } from "./repository.js";

/** SHA-256 of a callback token, as stored. */
export function hashCallbackToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** What came of a request; `message` is for the person who asked (Slack mrkdwn). */
export interface RetrainOutcome {
  outcome: "started" | "already_running" | "refused";
  request?: RetrainRequest;
  message: string;
}

/** Who reported a candidate through the API. */
export interface ApiCaller {
  /** `api:<token name>` or `retrain:<request id>` for a callback token. */
  actor: string;
  /** Set when the caller used the one-time token of a retrain request. */
  retrainRequestId?: number;
}

function fieldOf(path: readonly PropertyKey[]): string {
  let out = "";
  for (const k of path) out += typeof k === "number" ? `[${k}]` : out ? `.${String(k)}` : String(k);
  return out || "(body)";
}

/** Retrain requests and candidate reports. */
export function createRequestService(deps: RetrainingDeps) {
  const { db, clock, notifier } = deps;

  return {
    /**
     * `/mlops retrain <model> [INC-n] [reason]`: records the request and queues the pipeline call
     * in one transaction (the call itself happens after commit, outside it). One request runs per
     * model and incident: asking again while it runs answers with the running one.
     */
    async requestRetrain(req: {
      model: string;
      incidentId?: number | undefined;
      reason?: string | undefined;
      actor: string;
      via: RetrainVia;
      replyChannel?: string;
    }): Promise<RetrainOutcome> {
      const rules = retrainingOf(deps.config, req.model);
      const incident = req.incidentId ? await createIncidentRepository(db).byId(req.incidentId) : undefined;
      if (req.incidentId && !incident)
        throw new RetrainingError("unknown_incident", `There is no ${formatRef(req.incidentId)}.`);
      if (incident && incident.model !== req.model)
        throw new RetrainingError(
          "unknown_incident",
          `${formatRef(incident.id)} is about \`${incident.model}\`, not \`${req.model}\`.`,
        );
      const decision = await deps.access.can(req.actor, "retrain", req.model);
      const incidentId = incident?.id ?? null;
      if (!decision.allowed) {
        const message = `You may not retrain \`${req.model}\`: that takes ${describePrincipals(deps.config, decision.allowedPrincipals, req.model)}. Nothing was started.`;
        await db.transaction((tx) =>
          record(deps, tx, {
            incidentId,
            kind: "refused",
            actor: req.actor,
            via: req.via,
            target: req.model,
            outcome: "refused",
            detail: { action: "retrain", allowed: decision.allowedPrincipals },
          }),
        );
        return { outcome: "refused", message };
      }
      const now = clock.now();
      const dedupeKey = `${req.model}:${incidentId ?? "none"}`;
      const result = await db.transaction(async (tx): Promise<RetrainOutcome> => {
        const repo = createRetrainingRepository(tx);
        const request = await repo.insertRequest({
          model: req.model,
          incidentId,
          dedupeKey,
          requestedBy: req.actor,
          reason: req.reason ?? null,
          state: "pending",
          createdAt: now,
          updatedAt: now,
        });
        if (!request) {
          const running = await repo.activeRequest(dedupeKey);
          return {
            outcome: "already_running",
            ...(running ? { request: running } : {}),
            message: `A retrain of \`${req.model}\`${incident ? ` for ${formatRef(incident.id)}` : ""} is already ${running?.state === "triggered" ? "running" : "starting"}${running ? ` (${formatRequestRef(running.id)}, asked by <@${running.requestedBy}>)` : ""}; its progress is in the thread.`,
          };
        }
        const note = {
          kind: "retrain_requested" as const,
          request,
          modelName: modelNameOf(deps.config, req.model),
          incidentRef: incidentRefOf(incidentId),
        };
        let threadOutboxId: number;
        let noteId: number;
        if (incident?.cardOutboxId) {
          threadOutboxId = incident.cardOutboxId;
          noteId = await notifier.reply(tx, { channel: incident.channel, parentId: threadOutboxId }, note);
        } else {
          threadOutboxId = await notifier.post(
            tx,
            incident?.channel ?? modelChannel(deps.config, req.model),
            note,
          );
          noteId = threadOutboxId;
        }
        const stored = await repo.updateRequest(request.id, { threadOutboxId });
        await repo.enqueueCall({
          kind: "pipeline",
          model: req.model,
          retrainRequestId: request.id,
          payload: {
            model: req.model,
            request_id: request.id,
            incident: incidentRefOf(incidentId),
            reason: req.reason ?? null,
            requested_by: req.actor,
            callback_url: `${(rules.callback_url ?? deps.publicUrl()).replace(/\/$/, "")}/api/v1/models/${req.model}/candidates`,
          },
          state: "pending",
          availableAt: now,
          createdAt: now,
          maxAttempts: 5,
        });
        await record(deps, tx, {
          incidentId,
          kind: "retrain_requested",
          actor: req.actor,
          via: req.via,
          target: formatRequestRef(request.id),
          detail: { model: req.model, reason: req.reason ?? null, pipeline: rules.pipeline.type },
          outboxId: noteId,
        });
        return {
          outcome: "started",
          request: stored,
          message: `Retrain ${formatRequestRef(request.id)} of \`${req.model}\` requested: calling its ${rules.pipeline.type.replace("_", " ")} pipeline; progress follows in the ${incident ? `${formatRef(incident.id)} thread` : "thread"}.`,
        };
      });
      notifier.wake();
      if (result.outcome === "started") deps.kick();
      return result;
    },

    /** The retrain request a callback token was issued for (undefined when not valid for `model`). */
    async verifyCallbackToken(model: string, token: string): Promise<RetrainRequest | undefined> {
      return createRetrainingRepository(db).requestByCallbackHash(
        model,
        hashCallbackToken(token),
        clock.now(),
      );
    },

    /**
     * A pipeline reports a candidate. The body is validated in full before anything is written; the
     * candidate, the judged rules, the card in the thread, the timeline and the audit are written
     * in one transaction.
     */
    async reportCandidate(model: string, body: unknown, caller: ApiCaller): Promise<Candidate> {
      const m = deps.config.models.find((x) => x.slug === model);
      if (!m)
        throw new RetrainingError("not_configured", `no model called ${JSON.stringify(model.slice(0, 80))}`);
      const rules = retrainingOf(deps.config, model);
      const parsed = candidateReportSchema.safeParse(body);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const path = [...(issue?.path ?? [])];
        // An unknown key is named itself, not the object that holds it.
        if (issue?.code === "unrecognized_keys" && issue.keys[0]) path.push(issue.keys[0]);
        const field = fieldOf(path);
        throw new RetrainingError("invalid_candidate", `${field}: ${issue?.message ?? "invalid"}`, field);
      }
      const report = parsed.data;
      for (const side of ["metrics", "champion_metrics"] as const)
        for (const name of requiredMetrics(rules))
          if (report[side][name] === undefined)
            throw new RetrainingError(
              "invalid_candidate",
              `${side}.${name}: required (the retraining rules of ${model} judge it)`,
              `${side}.${name}`,
            );
      if (
        caller.retrainRequestId &&
        report.retrain_request_id &&
        report.retrain_request_id !== caller.retrainRequestId
      )
        throw new RetrainingError(
          "invalid_candidate",
          "retrain_request_id: does not match the request the token was issued for",
          "retrain_request_id",
        );
      const requestId = caller.retrainRequestId ?? report.retrain_request_id;
      const now = clock.now();
      const candidate = await db.transaction(async (tx) => {
        const repo = createRetrainingRepository(tx);
        const request = requestId ? await repo.request(requestId, true) : undefined;
        if (requestId && (!request || request.model !== model))
          throw new RetrainingError(
            "invalid_candidate",
            `retrain_request_id: no retrain request ${requestId} of ${model}`,
            "retrain_request_id",
          );
        // Without one in the report, the champion is the bot's current one (a promotion outranks
        // the config's), which is also where the registry's alias must point for a promote.
        const champion = report.champion_version ?? (await championOf(tx, model)) ?? m.champion ?? null;
        if (champion === report.version)
          throw new RetrainingError("invalid_candidate", "version: is the champion already", "version");
        const incidentId = request?.incidentId ?? null;
        const incident = incidentId ? await createIncidentRepository(tx).byId(incidentId) : undefined;
        const thread: ThreadTarget = request?.threadOutboxId
          ? {
              channel: incident?.channel ?? modelChannel(deps.config, model),
              parentId: request.threadOutboxId,
            }
          : { channel: modelChannel(deps.config, model), parentId: null };
        const snapshot = evaluateCandidate(rules, report.metrics, report.champion_metrics);
        const inserted = await repo.insertCandidate({
          model,
          version: report.version,
          championVersion: champion,
          artifactUri: report.artifact_uri,
          metrics: report.metrics,
          championMetrics: report.champion_metrics,
          businessMetrics: report.business_metrics ?? null,
          dataWindow: report.data_window,
          runUrl: report.pipeline_run_url,
          retrainRequestId: request?.id ?? null,
          incidentId,
          requestedBy: request?.requestedBy ?? null,
          reportedBy: caller.actor,
          state: "pending_approval",
          rules: snapshot as unknown as Record<string, unknown>,
          approvalsRequired: rules.approvals_required,
          expiresAt: new Date(now.getTime() + rules.expires_after),
          channel: thread.channel,
          threadOutboxId: thread.parentId,
          createdAt: now,
          updatedAt: now,
        });
        if (!inserted)
          throw new RetrainingError(
            "duplicate_version",
            `version ${report.version} of ${model} was reported already`,
          );
        // The registry describes the version (its run, metrics, who trained it) on the card.
        if (rules.registry) await queueVersionLookup(tx, inserted, now);
        const cardId = await notifier.postCard(tx, thread, await cardOf(deps, tx, inserted));
        const stored = await repo.updateCandidate(inserted.id, { cardOutboxId: cardId });
        if (request)
          await repo.updateRequest(request.id, {
            state: "reported",
            updatedAt: now,
            callbackTokenHash: null,
          });
        await record(deps, tx, {
          incidentId,
          kind: "candidate_reported",
          actor: caller.actor,
          via: "api",
          target: `${model}@${report.version}`,
          detail: { passes: snapshot.passes, runUrl: report.pipeline_run_url, request: request?.id ?? null },
          outboxId: cardId,
        });
        return stored;
      });
      notifier.wake();
      if (rules.registry) deps.kick();
      return candidate;
    },
  };
}
