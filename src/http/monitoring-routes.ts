/**
 * The monitoring API: predictions, labels, pre-aggregated profiles and reference profiles, behind bearer tokens. The token
 * is checked on request (before the body is read), so a caller without one gets 401 however large
 * its body; a body over the route's limit gets 413; a bad batch 400 naming the row and field; an
 * unknown model 404. Nothing is written on a 4xx.
 */
import type { FastifyInstance, FastifyPluginAsync } from "fastify";
import type { ApiTokenService } from "../api-tokens/index.js";
import { type IngestService, InvalidBatchError } from "../ingest/index.js";
import { UnknownModelError } from "../models/index.js";
import {
  configuredMonitors,
  InvalidRequestError,
  MONITOR_KINDS,
  type MonitoringService,
  NotEnoughDataError,
  type ReferenceService,
} from "../monitoring/index.js";
import { bearerAuth } from "./bearer-auth.js";
import { sendUnhandledError } from "./errors.js";

/** Largest predictions body (10,000 rows of a wide model fit easily). */
export const PREDICTIONS_BODY_LIMIT = 32 * 1024 * 1024;
/** Largest reference upload body (up to 100,000 labelled rows). */
export const REFERENCE_BODY_LIMIT = 128 * 1024 * 1024;

/** What the routes call. */
export interface MonitoringRouteDeps {
  apiTokens: ApiTokenService;
  ingest: IngestService;
  reference: ReferenceService;
  monitoring: MonitoringService;
}

type ModelParams = { Params: { model: string } };

/** The monitoring API plugin. */
export function monitoringRoutes(deps: MonitoringRouteDeps): FastifyPluginAsync {
  return async (app: FastifyInstance) => {
    app.addHook("onRequest", bearerAuth(deps.apiTokens));
    app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
      if (err instanceof InvalidBatchError)
        return reply
          .code(400)
          .send({ error: err.code, message: err.message, row: err.row, field: err.field });
      if (err instanceof UnknownModelError)
        return reply.code(404).send({ error: err.code, message: err.message });
      if (err instanceof NotEnoughDataError)
        return reply.code(422).send({ error: err.code, message: err.message });
      if (err instanceof InvalidRequestError)
        return reply.code(400).send({ error: err.code, message: err.message });
      if (err.code === "FST_ERR_CTP_BODY_TOO_LARGE")
        return reply.code(413).send({
          error: "body_too_large",
          message: "the body is larger than this route accepts; send smaller batches",
        });
      return sendUnhandledError(err, req, reply, "monitoring API request failed");
    });

    app.post<ModelParams>(
      "/api/v1/models/:model/predictions",
      { bodyLimit: PREDICTIONS_BODY_LIMIT, config: { scope: "ingest" } },
      async (req) => deps.ingest.ingestPredictions(req.params.model, req.body),
    );

    app.post<ModelParams>(
      "/api/v1/models/:model/labels",
      { bodyLimit: PREDICTIONS_BODY_LIMIT, config: { scope: "ingest" } },
      async (req) => deps.ingest.ingestLabels(req.params.model, req.body),
    );

    app.post<ModelParams>(
      "/api/v1/models/:model/profiles",
      { bodyLimit: PREDICTIONS_BODY_LIMIT, config: { scope: "ingest" } },
      async (req) => deps.ingest.ingestProfiles(req.params.model, req.body),
    );

    app.post<ModelParams>(
      "/api/v1/models/:model/reference",
      { bodyLimit: REFERENCE_BODY_LIMIT, config: { scope: "admin" } },
      async (req, reply) => {
        const by = `api:${req.apiCaller?.tokenName ?? "unknown"}`;
        const body = req.body as unknown;
        if (Array.isArray(body))
          return reply.code(201).send(await deps.reference.fromUpload(req.params.model, body, by));
        const w = body as { from?: unknown; to?: unknown; version?: unknown } | null;
        const from = typeof w?.from === "string" ? new Date(w.from) : null;
        const to = typeof w?.to === "string" ? new Date(w.to) : null;
        if (!from || !to || Number.isNaN(from.getTime()) || Number.isNaN(to.getTime()))
          throw new InvalidRequestError(
            'send either a JSON array of labelled predictions or {"from": ISO time, "to": ISO time, "version"?: string}',
          );
        const version = typeof w?.version === "string" ? w.version : undefined;
        return reply.code(201).send(await deps.reference.fromWindow(req.params.model, from, to, by, version));
      },
    );

    // Runs one monitor now (an on-demand check, e.g. a runbook's verification); 404 when the model
    // does not exist or does not have that monitor configured.
    app.post<{ Params: { model: string; monitor: string } }>(
      "/api/v1/models/:model/monitors/:monitor/run",
      { config: { scope: "admin" } },
      async (req, reply) => {
        const { model, monitor } = req.params;
        const kind = MONITOR_KINDS.find((k) => k === monitor);
        let config: ReturnType<MonitoringService["configOf"]>;
        try {
          config = deps.monitoring.configOf(model);
        } catch {
          throw new UnknownModelError(model);
        }
        if (!kind || !configuredMonitors(config).includes(kind))
          return reply.code(404).send({
            error: "monitor_not_found",
            message: `${model} has no ${monitor} monitor (it has: ${configuredMonitors(config).join(", ")})`,
          });
        return reply.code(201).send(await deps.monitoring.runMonitor(model, kind, "manual"));
      },
    );

    app.get<ModelParams>("/api/v1/models/:model/runs", { config: { scope: "read" } }, async (req) => ({
      model: req.params.model,
      runs: await deps.monitoring.recent(req.params.model, 20),
    }));
  };
}
