import type { FastifyInstance } from "fastify";
import type { ApiTokenService } from "../api-tokens/index.js";
import type { OnCallService } from "../oncall/index.js";
import { bearerAuth } from "./bearer-auth.js";

/** What the schedule routes call. */
export interface ScheduleRouteDeps {
  oncall: Pick<OnCallService, "feed" | "names">;
  apiTokens: ApiTokenService;
}

const FEED_FILE = /^([a-z0-9][a-z0-9-]{0,62})\.ics$/;

/**
 * `GET /api/v1/schedules/<name>.ics`: a schedule's iCalendar feed for calendar apps, behind a
 * `read` token (calendar apps that cannot send a header need a proxy that adds it).
 */
export function scheduleRoutes(deps: ScheduleRouteDeps) {
  return async (scope: FastifyInstance): Promise<void> => {
    scope.addHook("onRequest", bearerAuth(deps.apiTokens));

    scope.get<{ Params: { file: string } }>(
      "/api/v1/schedules/:file",
      { config: { scope: "read" } },
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
