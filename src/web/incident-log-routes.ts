import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { type ApiCaller, type ApiTokenService, allows } from "../api-tokens/index.js";
import { metricSeries, type RunPoint } from "../charts/metric-series.js";
import { bearerAuth, failedAuthLimiterOf } from "../http/bearer-auth.js";
import {
  INCIDENT_STATES,
  IncidentNotFoundError,
  type IncidentService,
  type IncidentState,
  parseRef,
} from "../incidents/index.js";
import type { ResponseFilter, ResponseMetrics } from "../reports/response.js";
import type { Clock } from "../shared/clock.js";
import { lineChart } from "./chart.js";
import type { SafeHtml } from "./html.js";
import {
  type ActorNames,
  detailPage,
  type ListFilters,
  LOG_CSS,
  listPage,
  loginPage,
  problemPage,
  responseSection,
} from "./incident-pages.js";
import { readCookie, SESSION_COOKIE, SESSION_TTL_MS, type SessionSigner } from "./session.js";

/** Monitor runs around an incident, for its chart. */
export type RunsAround = (model: string, monitor: string, from: Date, to: Date) => Promise<RunPoint[]>;

/** What the incident log pages read. */
export interface IncidentLogDeps {
  incidents: IncidentService;
  apiTokens: ApiTokenService;
  sessions: SessionSigner;
  clock: Clock;
  runsAround: RunsAround;
  models: readonly string[];
  monitors: readonly string[];
  names: ActorNames;
  /** The response metrics of incidents opened in a period (the reports' table). */
  responseMetrics: (filter: ResponseFilter) => Promise<ResponseMetrics>;
}

/** The response table covers this far back when the list has no "opened from" date. */
const RESPONSE_DEFAULT_MS = 30 * 86_400_000;

const CSP =
  "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, "expected a date like 2026-11-26")
  .refine((s) => !Number.isNaN(Date.parse(`${s}T00:00:00Z`)), "not a real date");

const listQuery = z.strictObject({
  state: z.enum(["active", "all", ...INCIDENT_STATES]).default("active"),
  model: z.string().max(63).default(""),
  monitor: z.string().max(63).default(""),
  from: z.union([z.literal(""), day]).default(""),
  to: z.union([z.literal(""), day]).default(""),
});

const loginBody = z.object({ token: z.string().max(400).default(""), next: z.string().max(500).default("") });

/** Only paths of the incident log are followed after sign-in (no open redirect). */
function safeNext(next: string): string {
  return /^\/incidents(\/[A-Za-z0-9-]*(\/review\.md)?)?(\?[\w=&%.:-]*)?$/.test(next) ? next : "/incidents";
}

function page(reply: FastifyReply, markup: SafeHtml, status = 200): FastifyReply {
  return reply
    .code(status)
    .type("text/html; charset=utf-8")
    .header("cache-control", "no-store")
    .send(markup.value);
}

/** How long around an incident its chart looks: from before it opened to after it ended. */
const CHART_BEFORE_MS = 6 * 3_600_000;
const CHART_AFTER_MS = 3_600_000;

/**
 * The read-only incident log: `/incidents` (filters: state, model, monitor, opened from/to) and
 * `/incidents/INC-n` (facts, the numbers that fired, a chart of the metric over the monitor runs
 * around it, the timeline). Behind the API's tokens: `Authorization: Bearer <token>`, or a
 * session cookie from signing in with a token at `/incidents/login`.
 */
export function incidentLogRoutes(deps: IncidentLogDeps) {
  // Bad tokens here count against the same per-address budget as the API's.
  const limiter = failedAuthLimiterOf(deps.apiTokens);
  const bearer = bearerAuth(deps.apiTokens, { limiter, scope: "read" });

  /** The API caller behind a session cookie while its token is active, or null. */
  async function sessionCaller(req: FastifyRequest): Promise<ApiCaller | null> {
    const cookie = readCookie(req.headers.cookie, SESSION_COOKIE);
    const subject = cookie ? deps.sessions.verify(cookie, deps.clock.now()) : null;
    return subject ? deps.apiTokens.callerOf(subject) : null;
  }

  return async (scope: FastifyInstance): Promise<void> => {
    scope.addContentTypeParser(
      "application/x-www-form-urlencoded",
      { parseAs: "string", bodyLimit: 8192 },
      (_req, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
    );
    scope.addHook("onSend", async (_req, reply, payload) => {
      reply.header("content-security-policy", CSP);
      reply.header("x-content-type-options", "nosniff");
      reply.header("referrer-policy", "no-referrer");
      reply.header("x-frame-options", "DENY");
      return payload;
    });

    const guard = async (req: FastifyRequest, reply: FastifyReply) => {
      // A Bearer header is checked exactly as on the API (401, or 429 after repeated bad tokens).
      if (req.headers.authorization) return bearer(req, reply);
      const caller = await sessionCaller(req);
      if (caller && allows(caller.scopes, "read")) {
        req.apiCaller = caller;
        return;
      }
      const next = encodeURIComponent(safeNext(req.url));
      await reply.code(303).header("location", `/incidents/login?next=${next}`).send();
    };

    scope.get("/incidents/static/log.css", async (_req, reply) =>
      reply.type("text/css; charset=utf-8").header("cache-control", "no-cache").send(LOG_CSS),
    );

    scope.get<{ Querystring: { next?: string } }>("/incidents/login", async (req, reply) =>
      page(reply, loginPage(safeNext(String(req.query.next ?? "")))),
    );

    scope.post("/incidents/login", async (req, reply) => {
      const parsed = loginBody.safeParse(req.body ?? {});
      const next = safeNext(parsed.success ? parsed.data.next : "");
      const token = parsed.success ? parsed.data.token.trim() : "";
      const who = token ? await deps.apiTokens.verify(token) : null;
      if (!who) {
        // A valid token is never refused here; only bad ones count and are refused once too many.
        const blockedForMs = limiter.blockedFor(req.ip);
        if (blockedForMs > 0) {
          reply.header("retry-after", String(Math.ceil(blockedForMs / 1000)));
          return page(reply, loginPage(next, "Too many bad tokens from this address; wait a minute."), 429);
        }
        if (token) limiter.fail(req.ip);
        req.log.warn("incident log sign-in with an invalid token");
        return page(reply, loginPage(next, token ? "That token is not valid." : "Enter an API token."), 401);
      }
      if (!allows(who.scopes, "read"))
        return page(
          reply,
          loginPage(next, "That token may not read incidents (it lacks the read scope)."),
          403,
        );
      // Behind a trusted proxy (TRUST_PROXY) this is the protocol the browser used.
      const secure = req.protocol === "https" ? "; Secure" : "";
      return reply
        .code(303)
        .header(
          "set-cookie",
          `${SESSION_COOKIE}=${deps.sessions.issue(who, deps.clock.now())}; Path=/incidents; HttpOnly; SameSite=Strict; Max-Age=${SESSION_TTL_MS / 1000}${secure}`,
        )
        .header("location", next)
        .send();
    });

    scope.post("/incidents/logout", async (_req, reply) =>
      reply
        .code(303)
        .header("set-cookie", `${SESSION_COOKIE}=; Path=/incidents; HttpOnly; SameSite=Strict; Max-Age=0`)
        .header("location", "/incidents/login")
        .send(),
    );

    scope.get("/incidents", { onRequest: guard }, async (req, reply) => {
      const q = listQuery.safeParse(req.query);
      if (!q.success) {
        const message = q.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
        return page(reply, problemPage("Bad filter", message), 400);
      }
      const f = q.data;
      const states: IncidentState[] | undefined =
        f.state === "all"
          ? undefined
          : f.state === "active"
            ? ["open", "acknowledged", "mitigated"]
            : [f.state];
      const list = await deps.incidents.list({
        states,
        ...(f.model ? { model: f.model } : {}),
        ...(f.monitor ? { monitor: f.monitor } : {}),
        ...(f.from ? { since: new Date(`${f.from}T00:00:00Z`) } : {}),
        ...(f.to ? { until: new Date(Date.parse(`${f.to}T00:00:00Z`) + 86_400_000) } : {}),
        limit: 200,
      });
      const filters: ListFilters = f;
      const to = f.to ? new Date(Date.parse(`${f.to}T00:00:00Z`) + 86_400_000) : deps.clock.now();
      const from = f.from ? new Date(`${f.from}T00:00:00Z`) : new Date(to.getTime() - RESPONSE_DEFAULT_MS);
      const response = await deps.responseMetrics({
        model: f.model || undefined,
        monitor: f.monitor || undefined,
        from,
        to,
      });
      return page(
        reply,
        listPage(
          list,
          filters,
          { models: deps.models, monitors: deps.monitors },
          deps.names,
          responseSection(response, { from, to }),
        ),
      );
    });

    // The post-incident review as it stands now: the posted draft plus every follow-up since.
    scope.get<{ Params: { ref: string } }>(
      "/incidents/:ref/review.md",
      { onRequest: guard },
      async (req, reply) => {
        const id = parseRef(req.params.ref);
        const text = (status: number, body: string) =>
          reply
            .code(status)
            .type(status === 200 ? "text/markdown; charset=utf-8" : "text/plain; charset=utf-8")
            .header("cache-control", "no-store")
            .send(body);
        if (id === undefined)
          return text(400, "Bad reference: expected an incident reference like INC-12.\n");
        try {
          return text(200, await deps.incidents.review(id));
        } catch (err) {
          if (err instanceof IncidentNotFoundError) return text(404, `There is no ${req.params.ref}.\n`);
          throw err;
        }
      },
    );

    scope.get<{ Params: { ref: string } }>("/incidents/:ref", { onRequest: guard }, async (req, reply) => {
      const id = parseRef(req.params.ref);
      if (id === undefined)
        return page(reply, problemPage("Bad reference", "expected an incident reference like INC-12"), 400);
      try {
        const snapshot = await deps.incidents.snapshot(id);
        const { incident, alert } = snapshot;
        const timeline = await deps.incidents.timeline(id);
        const end = incident.resolvedAt ?? deps.clock.now();
        const runs = await deps.runsAround(
          incident.model,
          incident.monitor,
          new Date(incident.openedAt.getTime() - CHART_BEFORE_MS),
          new Date(end.getTime() + CHART_AFTER_MS),
        );
        const series = metricSeries(incident.monitor, incident.subject, alert.metrics, runs);
        const chart = lineChart(series, { openedAt: incident.openedAt, resolvedAt: incident.resolvedAt });
        return page(
          reply,
          detailPage(incident, alert, timeline, chart, `The metric: ${series.label}`, deps.names),
        );
      } catch (err) {
        if (err instanceof IncidentNotFoundError)
          return page(reply, problemPage("Not found", `There is no ${req.params.ref}.`), 404);
        throw err;
      }
    });
  };
}
