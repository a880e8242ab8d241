import type { FastifyInstance } from "fastify";
import type { MlopsConfig } from "../config/index.js";
import { type PagerService, parseAnswer, verifyAnswer } from "../pagers/index.js";
import type { Clock } from "../shared/clock.js";
import type { Logger } from "../shared/logger.js";
import { refuseIfBlocked } from "./bearer-auth.js";
import { FailedAuthLimiter } from "./failed-auth-limiter.js";

/** What the pager webhook routes call. */
export interface PagerRouteDeps {
  config: MlopsConfig;
  pagers: PagerService;
  clock: Clock;
  logger: Logger;
  /** Failed signatures per client address (one budget for every pager). */
  limiter?: FailedAuthLimiter;
}

const BODY_LIMIT = 256 * 1024;

/**
 * `POST /api/v1/pagers/<name>/webhook`: a provider's answer (PagerDuty v3 webhook, Opsgenie's
 * outgoing webhook, our signed webhook). No bearer token: the body's signature (or Opsgenie's
 * shared secret header) is checked on the raw bytes, in constant time, before anything is read;
 * a bad one is 401 and writes nothing, and too many from one address are refused with 429.
 */
export function pagerRoutes(deps: PagerRouteDeps) {
  const limiter = deps.limiter ?? new FailedAuthLimiter();
  return async (scope: FastifyInstance): Promise<void> => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", { parseAs: "string", bodyLimit: BODY_LIMIT }, (_req, body, done) =>
      done(null, body),
    );
    scope.post<{ Params: { name: string } }>("/api/v1/pagers/:name/webhook", async (req, reply) => {
      if (await refuseIfBlocked(limiter, req, reply)) return;
      const pager = deps.config.pagers[req.params.name];
      if (!pager) {
        limiter.fail(req.ip);
        return reply.code(404).send({ error: "not_found", message: "no such pager" });
      }
      const raw = typeof req.body === "string" ? req.body : "";
      const why = verifyAnswer(pager, req.headers, raw, deps.clock.now());
      if (why) {
        limiter.fail(req.ip);
        deps.logger.warn({ pager: req.params.name, why }, "pager webhook refused");
        return reply.code(401).send({ error: "unauthorized", message: why });
      }
      const result = await deps.pagers.answer(req.params.name, parseAnswer(pager, raw));
      return reply.code(202).send(result);
    });
  };
}
