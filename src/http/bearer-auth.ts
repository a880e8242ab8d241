import type { FastifyReply, FastifyRequest } from "fastify";
import type { ApiCaller, ApiTokenService } from "../api-tokens/index.js";

declare module "fastify" {
  interface FastifyRequest {
    /** Set by the bearer-token check on API routes. */
    apiCaller?: ApiCaller;
  }
}

/**
 * A preHandler that admits requests carrying `Authorization: Bearer <token>` for a live token.
 * Anything else is a 401 with a `WWW-Authenticate` header, before the body is looked at.
 */
export function bearerAuth(tokens: ApiTokenService) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const header = req.headers.authorization;
    const match = header ? /^Bearer\s+(\S{1,200})\s*$/i.exec(header) : null;
    const caller = match?.[1] ? await tokens.verify(match[1]) : null;
    if (!caller) {
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
