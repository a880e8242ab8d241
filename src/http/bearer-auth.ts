import type { FastifyReply, FastifyRequest } from "fastify";
import type { ApiCaller, ApiTokenService } from "../api-tokens/index.js";
import { FailedAuthLimiter } from "./failed-auth-limiter.js";

declare module "fastify" {
  interface FastifyRequest {
    /** Set by the bearer-token check on API routes. */
    apiCaller?: ApiCaller;
  }
}

/**
 * One failed-auth limiter per token service, so the API's route scopes (incidents, monitoring)
 * share one budget per client address instead of each granting its own.
 */
const limiters = new WeakMap<ApiTokenService, FailedAuthLimiter>();

/** The failed-auth budget shared by every check of these tokens: the API's scopes and the incident log's sign-in. */
export function failedAuthLimiterOf(tokens: ApiTokenService): FailedAuthLimiter {
  let limiter = limiters.get(tokens);
  if (!limiter) {
    limiter = new FailedAuthLimiter();
    limiters.set(tokens, limiter);
  }
  return limiter;
}

/** Answers 429 with Retry-After when `req`'s address has used up its failed attempts; true if it did. */
export async function refuseIfBlocked(
  limit: FailedAuthLimiter,
  req: FastifyRequest,
  reply: FastifyReply,
): Promise<boolean> {
  const blockedForMs = limit.blockedFor(req.ip);
  if (blockedForMs <= 0) return false;
  await reply
    .code(429)
    .header("retry-after", String(Math.ceil(blockedForMs / 1000)))
    .send({
      error: "too_many_failed_attempts",
      message: "too many requests with a bad token from this address; wait and retry",
    });
  return true;
}

/**
 * A hook that admits requests carrying `Authorization: Bearer <token>` for a live token.
 * Anything else is a 401 with a `WWW-Authenticate` header, before the body is looked at.
 *
 * A client address that keeps presenting bad tokens is refused with 429 and `Retry-After` until
 * its window has passed, even with a good token: otherwise guessing would only get slower, not
 * stop. Requests that authenticate do not count.
 */
export function bearerAuth(tokens: ApiTokenService, limiter?: FailedAuthLimiter) {
  const limit = limiter ?? failedAuthLimiterOf(tokens);
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (await refuseIfBlocked(limit, req, reply)) return;
    const header = req.headers.authorization;
    const match = header ? /^Bearer\s+(\S{1,200})\s*$/i.exec(header) : null;
    const caller = match?.[1] ? await tokens.verify(match[1]) : null;
    if (!caller) {
      // A request without any Authorization header is a misconfigured client, not a guess.
      if (header) limit.fail(req.ip);
      await reply
        .code(401)
        .header("www-authenticate", 'Bearer realm="mlops-bot"')
        .send({
          error: "unauthorized",
          message: header ? "the bearer token is not valid" : "send Authorization: Bearer <token>",
        });
      return;
    }
    req.apiCaller = caller;
  };
}
