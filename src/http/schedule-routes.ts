import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { type ApiTokenService, allows } from "../api-tokens/index.js";
import type { OnCallService } from "../oncall/index.js";
import { failedAuthLimiterOf, refuseIfBlocked } from "./bearer-auth.js";

/** What the schedule routes call. */
export interface ScheduleRouteDeps {
  oncall: Pick<OnCallService, "feed" | "names">;
  apiTokens: ApiTokenService;
}

const FEED_FILE = /^([a-z0-9][a-z0-9-]{0,62})\.ics$/;

/**
 * Who may read a feed. In the `Authorization` header: a token with the `read` or the `calendar`
 * scope. In the address (`?token=`), for calendar apps, which cannot send a header: only a token
 * whose one scope is `calendar`, so an address that leaks (proxy logs, a shared calendar) reads
 * the schedules and nothing else. Bad tokens count against the address's failed-auth budget.
 */
function feedAuth(tokens: ApiTokenService) {
  const limit = failedAuthLimiterOf(tokens);
  const refuse = (reply: FastifyReply, code: 401 | 403, error: string, message: string) =>
    reply.code(code).header("www-authenticate", 'Bearer realm="mlops-bot"').send({ error, message });
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const header = req.headers.authorization;
    const query = (req.query as Record<string, unknown>).token;
    const inAddress = header === undefined && query !== undefined;
    const presented = inAddress
      ? typeof query === "string" && query.length <= 200
        ? query
        : null
      : header
        ? (/^Bearer\s+(\S{1,200})\s*$/i.exec(header)?.[1] ?? null)
        : null;
    const caller = presented ? await tokens.verify(presented) : null;
    if (!caller) {
      if (await refuseIfBlocked(limit, req, reply)) return;
      if (header !== undefined || query !== undefined) limit.fail(req.ip);
      await refuse(
        reply,
        401,
        "unauthorized",
        header !== undefined || query !== undefined
          ? "the token is not valid"
          : "send Authorization: Bearer <token>, or a calendar token as ?token=<token>",
      );
      return;
    }
    if (inAddress) {
      if (caller.scopes.length !== 1 || caller.scopes[0] !== "calendar")
        await refuse(
          reply,
          403,
          "insufficient_scope",
          `the token ${caller.tokenName} may not be sent in an address: only a token whose one scope is calendar may (make one with npm run token:create -- <name> --scope calendar)`,
        );
      return;
    }
    if (!allows(caller.scopes, "read") && !caller.scopes.includes("calendar"))
      await refuse(
        reply,
        403,
        "insufficient_scope",
        `the token ${caller.tokenName} may not read schedules: it needs the read or calendar scope (it has ${caller.scopes.join(", ")})`,
      );
  };
}

/**
 * `GET /api/v1/schedules/<name>.ics`: a schedule's iCalendar feed for calendar apps, behind a
 * `read` or `calendar` token in the header, or a calendar-only token in the address.
 */
export function scheduleRoutes(deps: ScheduleRouteDeps) {
  return async (scope: FastifyInstance): Promise<void> => {
    scope.addHook("onRequest", feedAuth(deps.apiTokens));

    scope.get<{ Params: { file: string } }>(
      "/api/v1/schedules/:file",
      { config: { scope: "calendar" } },
      async (req, reply) => {
        const name = FEED_FILE.exec(req.params.file)?.[1];
        if (!name || !deps.oncall.names().includes(name))
          return reply.code(404).send({
            error: "not_found",
            message: `no schedule feed ${req.params.file.slice(0, 80)} (known: ${
              deps.oncall
                .names()
                .map((n) => `${n}.ics`)
                .join(", ") || "none"
            })`,
          });
        const body = await deps.oncall.feed(name);
        return reply
          .type("text/calendar; charset=utf-8")
          .header("content-disposition", `inline; filename="${name}.ics"`)
          .header("cache-control", "private, max-age=300")
          .send(body);
      },
    );
  };
}
