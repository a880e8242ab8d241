import type { FastifyReply, FastifyRequest } from "fastify";
import { type ApiCaller, type ApiTokenService, allows, type TokenScope } from "../api-tokens/index.js";
import { FailedAuthLimiter } from "./failed-auth-limiter.js";

declare module "fastify" {
  interface FastifyRequest {
    /** Set by the bearer-token check on API routes. */
    apiCaller?: ApiCaller;
  }
  interface FastifyContextConfig {
    /** The token scope a route needs (see api-tokens); routes without one need `admin`. */
    scope?: TokenScope;
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

/** The scope `req`'s route needs: the one given, else the route's `config.scope`, else `admin`. */
function scopeOf(req: FastifyRequest, given: TokenScope | undefined): TokenScope {
  return given ?? req.routeOptions.config?.scope ?? "admin";
}

/** Answers 403 when `caller` lacks the scope; true if it did. */
export async function refuseIfOutOfScope(
  caller: ApiCaller,
  needed: TokenScope,
  reply: FastifyReply,
): Promise<boolean> {
  if (allows(caller.scopes, needed)) return false;
  await reply
    .code(403)
    .header("www-authenticate", `Bearer realm="mlops-bot", error="insufficient_scope", scope="${needed}"`)
    .send({
      error: "insufficient_scope",
      message: `the token ${caller.tokenName} may not do this: it needs the ${needed} scope (it has ${caller.scopes.join(", ")})`,
      scope: needed,
    });
  return true;
}

/**
 * A hook that admits requests carrying `Authorization: Bearer <token>` for a live token holding the
 * route's scope. Use it as an `onRequest` hook: it answers before the body is read or parsed.
 * No or a bad token is a 401 with a `WWW-Authenticate` header; a good token without the scope 403.
 *
 * A valid token is never refused by the limiter, whatever its address did: behind a proxy one
 * client's guessing must not lock out the others. Bad tokens are counted per client address
 * (`req.ip`, which `TRUST_PROXY` decides), and after too many in a window they get 429 with
 * `Retry-After` instead of 401 until the window has passed.
 */
export function bearerAuth(
  tokens: ApiTokenService,
  opts: { limiter?: FailedAuthLimiter; scope?: TokenScope } = {},
) {
  const limit = opts.limiter ?? failedAuthLimiterOf(tokens);
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const header = req.headers.authorization;
    const match = header ? /^Bearer\s+(\S{1,200})\s*$/i.exec(header) : null;
    const caller = match?.[1] ? await tokens.verify(match[1]) : null;
    if (!caller) {
      if (await refuseIfBlocked(limit, req, reply)) return;
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
    if (await refuseIfOutOfScope(caller, scopeOf(req, opts.scope), reply)) return;
    req.apiCaller = caller;
  };
}
