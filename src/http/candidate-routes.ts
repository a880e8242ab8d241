/**
 * The candidate API: a retraining pipeline reports the version it trained. Callers authenticate
 * with an API token (as for ingest) or with the one-time token the bot gave the pipeline run
 * (`mlrt_…`, valid for that model and request only). Unknown model 404; a bad body 400 naming the
 * field; a version reported before 409. Nothing is written on a 4xx.
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import type { ApiTokenService } from "../api-tokens/index.js";
import { RetrainingError, type RetrainingService } from "../retraining/index.js";
import { bearerAuth, failedAuthLimiterOf, refuseIfBlocked } from "./bearer-auth.js";
import { sendUnhandledError } from "./errors.js";

/** What the routes call. */
export interface CandidateRouteDeps {
  apiTokens: ApiTokenService;
  service: RetrainingService;
  models: readonly string[];
}

type ModelParams = { Params: { model: string } };

const CALLBACK_PREFIX = "mlrt_";

/** The candidate API plugin. */
export function candidateRoutes(deps: CandidateRouteDeps): FastifyPluginAsync {
  return async (app: FastifyInstance) => {
    const apiAuth = bearerAuth(deps.apiTokens);
    // Callback tokens are guessable secrets too: they count against the same per-address budget.
    const limiter = failedAuthLimiterOf(deps.apiTokens);
    const viaCallback = new WeakMap<FastifyRequest, number>();

    app.addHook("onRequest", async (req: FastifyRequest, reply: FastifyReply) => {
      const match = /^Bearer\s+(\S{1,200})\s*$/i.exec(req.headers.authorization ?? "");
      const token = match?.[1];
      if (!token?.startsWith(CALLBACK_PREFIX)) return apiAuth(req, reply);
      const model = (req.params as { model?: string }).model ?? "";
      const request = await deps.service.verifyCallbackToken(model, token);
      if (!request) {
        // As for API tokens: a valid callback token is never refused, only bad ones are counted.
        if (await refuseIfBlocked(limiter, req, reply)) return;
        limiter.fail(req.ip);
        await reply.code(401).header("www-authenticate", 'Bearer realm="mlops-bot"').send({
          error: "unauthorized",
          message: "the callback token is not valid for this model (used, expired or unknown)",
        });
        return;
      }
      viaCallback.set(req, request.id);
    });

    app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
      if (err instanceof RetrainingError) {
        const status =
          err.code === "invalid_candidate"
            ? 400
            : err.code === "duplicate_version" || err.code === "conflict"
              ? 409
              : err.code === "not_configured"
                ? 404
                : 400;
        return reply
          .code(status)
          .send({ error: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) });
      }
      if (err.code === "FST_ERR_CTP_INVALID_JSON_BODY" || err.code === "FST_ERR_CTP_EMPTY_JSON_BODY")
        return reply
          .code(400)
          .send({ error: "invalid_candidate", message: "the body is not valid JSON", field: "(body)" });
      return sendUnhandledError(err, req, reply, "candidate API request failed");
    });

    app.post<ModelParams>(
      "/api/v1/models/:model/candidates",
      { bodyLimit: 256 * 1024, config: { scope: "pipeline" } },
      async (req, reply) => {
        if (!deps.models.includes(req.params.model))
          return reply.code(404).send({
            error: "unknown_model",
            message: `no model called ${JSON.stringify(req.params.model.slice(0, 80))}`,
          });
        const requestId = viaCallback.get(req);
        const candidate = await deps.service.reportCandidate(req.params.model, req.body, {
          actor: requestId ? `retrain:${requestId}` : `api:${req.apiCaller?.tokenName ?? "unknown"}`,
          ...(requestId ? { retrainRequestId: requestId } : {}),
        });
        const rules = candidate.rules as { passes?: boolean; verdict?: string };
        return reply.code(201).send({
          id: candidate.id,
          model: candidate.model,
          version: candidate.version,
          state: candidate.state,
          passes: rules.passes ?? false,
          verdict: rules.verdict ?? null,
          expires_at: candidate.expiresAt.toISOString(),
        });
      },
    );
  };
}
