import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyPluginAsync,
  LogController,
} from "fastify";
import type { Database } from "../db/index.js";
import type { Logger } from "../shared/logger.js";
import type { Metrics } from "../shared/metrics.js";
import { sendUnhandledError } from "./errors.js";

/** What the HTTP app serves; built by the composition root. */
export interface HttpAppDeps {
  logger: Logger;
  database: Database;
  metrics: Metrics;
  /** The Slack receiver's encapsulated plugin (HTTP mode and sandbox mode). */
  slackPlugin?: FastifyPluginAsync;
  /** Further encapsulated plugins, each with an optional prefix (the sandbox, later the API). */
  plugins?: { plugin: FastifyPluginAsync; prefix?: string }[];
  /**
   * Which proxies' `X-Forwarded-For`/`-Proto` to believe (`TRUST_PROXY`): decides `req.ip`, which
   * the failed-auth limiter keys on, and `req.protocol`, which makes the session cookie `Secure`.
   */
  trustProxy?: boolean | number | string[];
  /** Largest JSON body accepted by non-Slack routes. */
  bodyLimit?: number;
  /**
   * Parts that are stuck while the bot still serves (the outbox paused by a Slack token error):
   * /readyz stays 200, so the API keeps accepting alerts, with status `degraded` and these details.
   */
  degraded?: () => Record<string, unknown>;
}

/**
 * The bot's HTTP app, with the two switches `/readyz` depends on besides the database: started
 * (everything behind the server runs: Slack connected, features started) and draining (shutting down).
 */
export type HttpApp = FastifyInstance & { setStarted(): void; setDraining(): void };

/** The fastify app, without `listen`: tests inject into it or listen on port 0. */
export function buildHttpApp(deps: HttpAppDeps): HttpApp {
  const { database, metrics } = deps;
  const app = Fastify({
    loggerInstance: deps.logger.child({ component: "http" }) as FastifyBaseLogger,
    // Request timing goes to /metrics; a log line per health probe would drown everything else.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: deps.bodyLimit ?? 1024 * 1024,
    forceCloseConnections: "idle",
    return503OnClosing: true,
    // A hop count trusts that many proxies nearest to us (what fastify does with a number).
    trustProxy:
      typeof deps.trustProxy === "number"
        ? (
            (hops: number) => (_address: string, hop: number) =>
              hop < hops
          )(deps.trustProxy)
        : (deps.trustProxy ?? false),
  });
  let started = false;
  let draining = false;
  let migrationsKnownCurrent = false;

  app.addHook("onResponse", async (req, reply) => {
    metrics.httpRequestDuration.observe(
      {
        method: req.method,
        route: req.routeOptions.url ?? "unmatched",
        status_code: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
  });

  // A keep-alive connection that carried a request during shutdown would otherwise hold close()
  // open until its idle timeout: ask the client to close it with this response.
  app.addHook("onSend", async (_req, reply) => {
    if (draining) reply.header("connection", "close");
  });

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) =>
    sendUnhandledError(err, req, reply),
  );

  app.get("/healthz", async () => ({ status: "ok" }));

  app.get("/readyz", async (_req, reply) => {
    if (draining) return reply.code(503).send({ status: "draining" });
    if (!started) return reply.code(503).send({ status: "starting" });
    try {
      await database.ping(1500);
    } catch (err) {
      return reply
        .code(503)
        .send({ status: "unavailable", database: "unreachable", message: (err as Error).message });
    }
    if (!migrationsKnownCurrent) migrationsKnownCurrent = await database.migrationsCurrent();
    if (!migrationsKnownCurrent)
      return reply.code(503).send({ status: "unavailable", database: "migrations_pending" });
    const degraded = deps.degraded?.() ?? {};
    if (Object.keys(degraded).length > 0) return { status: "degraded", database: database.kind, ...degraded };
    return { status: "ready", database: database.kind };
  });

  app.get("/metrics", async (_req, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  if (deps.slackPlugin) app.register(deps.slackPlugin);
  for (const { plugin, prefix } of deps.plugins ?? []) app.register(plugin, prefix ? { prefix } : {});

  return Object.assign(app, {
    setStarted() {
      started = true;
    },
    setDraining() {
      draining = true;
    },
  });
}
