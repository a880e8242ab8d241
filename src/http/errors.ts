import type { FastifyReply, FastifyRequest } from "fastify";
import { isDatabaseUnavailable } from "../db/index.js";

/** Seconds a client is asked to wait when the database is unreachable. */
const DATABASE_RETRY_AFTER_SEC = 5;

/**
 * The last word on an error no route handled: a 4xx keeps its code and message; the database
 * being unreachable is a 503 with Retry-After (nothing was written, the client should retry);
 * anything else is a 500 whose details stay in the log, never in the body.
 */
export function sendUnhandledError(
  err: Error & { statusCode?: number; code?: string },
  req: FastifyRequest,
  reply: FastifyReply,
  what = "request failed",
): FastifyReply {
  if (isDatabaseUnavailable(err)) {
    req.log.warn({ err: err.cause ?? err.message }, `${what}: the database is unreachable`);
    return reply
      .code(503)
      .header("retry-after", String(DATABASE_RETRY_AFTER_SEC))
      .send({ error: "unavailable", message: "The database is unreachable; retry shortly." });
  }
  const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
  if (status >= 500) req.log.error({ err }, what);
  return reply
    .code(status)
    .send(
      status >= 500
        ? { error: "internal_error", message: "Something went wrong on our side; it has been logged." }
        : { error: err.code ?? "bad_request", message: err.message },
    );
}
