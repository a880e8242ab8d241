import type { FastifyReply, FastifyRequest } from "fastify";

/**
 * The last word on an error no route handled: a 4xx keeps its code and message, anything else is
 * a 500 whose details stay in the log, never in the body.
 */
export function sendUnhandledError(
  err: Error & { statusCode?: number; code?: string },
  req: FastifyRequest,
  reply: FastifyReply,
  what = "request failed",
): FastifyReply {
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
