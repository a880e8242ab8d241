import { randomBytes } from "node:crypto";
import { networkInterfaces } from "node:os";
import type { App, Receiver } from "@slack/bolt";
import { WebClient } from "@slack/web-api";
import type { FastifyInstance, FastifyPluginAsync } from "fastify";
import { createAccessControl } from "./access/index.js";
import { createApiTokenService } from "./api-tokens/index.js";
import { createAuditLog } from "./audit/index.js";
import { type Env, listenHost, type MlopsConfig, slackMode } from "./config/index.js";
import { type Database, openDatabase } from "./db/index.js";
import { createDemoTraffic, type DemoTraffic } from "./demo/demo-stream.js";
import { startFraudService } from "./demo/fraud-service.js";
import { fraudScore } from "./demo/fraud-traffic.js";
import { createFeatures, type Feature, type FeatureContext } from "./features.js";
import { buildHttpApp, type HttpApp } from "./http/app.js";
import { createLiveness, type Liveness } from "./liveness/index.js";
import { type Clock, systemClock } from "./shared/clock.js";
import type { Logger } from "./shared/logger.js";
import { createMetrics, type Metrics } from "./shared/metrics.js";
import { createSlackApp } from "./slack/app.js";
import { createCommandRouter } from "./slack/commands/router.js";
import { slackGroupDirectory } from "./slack/group-directory.js";
import { FastifySlackReceiver } from "./slack/receiver.js";
import {
  registerSandbox,
  SANDBOX_BOT,
  SandboxDriver,
  SandboxSocketMode,
  SandboxWorkspace,
} from "./slack/sandbox/index.js";
import { sandboxPageRoutes } from "./slack/sandbox/web/routes.js";
import { sandboxActRoutes } from "./slack/sandbox-routes.js";
import { sandboxSeedFromConfig } from "./slack/sandbox-seed.js";
import { SocketReceiver } from "./slack/socket-receiver.js";

/** The model whose traffic the sandbox page's demo control streams (the shipped config's). */
const DEMO_MODEL = "fraud-detector";

/** Options of one bot instance; `main.ts` fills them from the environment. */
export interface BotOptions {
  env: Env;
  config: MlopsConfig;
  logger: Logger;
  /** Clock in ms, for the Slack signature window (tests inject one). */
  now?: () => number;
  /** Web API retries (tests pass 0). */
  slackRetries?: number;
  /** Open this database instead of the one the environment names (tests). */
  database?: Database;
  /** The clock features use for deadlines and windows (tests inject one). */
  clock?: Clock;
  /** The process environment runbooks' `env` allowlists draw from (main.ts passes process.env). */
  hostEnv?: Readonly<Record<string, string | undefined>>;
  /** Replaces the shipped features (tests of one feature in isolation). */
  features?: (ctx: FeatureContext) => Feature[];
}

/** The built-in sandbox, present when the bot runs without Slack credentials. */
export interface SandboxHandle {
  workspace: SandboxWorkspace;
  driver: SandboxDriver;
  signingSecret: string;
  /** The sandbox's Socket Mode side, when the bot reaches it over Socket Mode (`MLOPS_SANDBOX_SOCKET=1`). */
  socket: SandboxSocketMode | undefined;
}

/** A running bot. */
export interface Bot {
  url: string;
  http: HttpApp;
  database: Database;
  slack: App;
  metrics: Metrics;
  sandbox: SandboxHandle | undefined;
  close(): Promise<void>;
}

/** Errors that mean "the server is not there yet", as opposed to a failed migration. */
function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return (
    code === "ECONNREFUSED" ||
    code === "ECONNRESET" ||
    code === "ENOTFOUND" ||
    code === "EAI_AGAIN" ||
    code === "CONNECT_TIMEOUT" ||
    code === "57P03" // cannot_connect_now: the server is starting up
  );
}

/**
 * Postgres may still be starting next to us (compose, CI): keep trying to connect for a while.
 * Any other failure of a migration is final, so a broken migration stops the start at once.
 */
async function migrateWithRetry(database: Database, logger: Logger, attempts = 20): Promise<void> {
  for (let i = 1; ; i++) {
    try {
      await database.migrate();
      return;
    } catch (err) {
      if (i >= attempts || database.kind === "pglite" || !isConnectionError(err)) throw err;
      logger.warn({ err: (err as Error).message, attempt: i }, "database not reachable yet; retrying");
      await new Promise((r) => setTimeout(r, Math.min(250 * i, 2000)));
    }
  }
}

/**
 * Verifies the bot token once at start so a wrong token fails loudly instead of on first use, and
 * learns the bot's identity so Bolt need not ask for it again. Slack being unreachable is not fatal:
 * Bolt then asks itself on the first event.
 */
async function checkToken(
  token: string,
  apiUrl: string | undefined,
  logger: Logger,
): Promise<{ botId: string; botUserId: string } | undefined> {
  try {
    const client = new WebClient(token, {
      ...(apiUrl ? { slackApiUrl: apiUrl } : {}),
      retryConfig: { retries: 2 },
    });
    const auth = await client.auth.test();
    logger.info({ team: auth.team, botUser: auth.user_id }, "connected to Slack");
    return auth.bot_id && auth.user_id ? { botId: auth.bot_id, botUserId: auth.user_id } : undefined;
  } catch (err) {
    const code = (err as { data?: { error?: string } }).data?.error;
    if (
      code === "invalid_auth" ||
      code === "not_authed" ||
      code === "account_inactive" ||
      code === "token_revoked"
    ) {
      throw new Error(`SLACK_BOT_TOKEN was refused by Slack (${code}); check the token`);
    }
    logger.warn({ err: (err as Error).message }, "could not reach Slack at start; will retry on use");
    return undefined;
  }
}

/** The hosts a request to the sandbox may be addressed to (a DNS-rebinding page's would name its own domain). */
export function sandboxHostAllowed(hostHeader: string | undefined, listen: { host: string }): boolean {
  if (!hostHeader) return false;
  let hostname: string;
  try {
    hostname = new URL(`http://${hostHeader}`).hostname.toLowerCase();
  } catch {
    return false;
  }
  const allowed = new Set(["localhost", "127.0.0.1", "[::1]"]);
  const listenHost = listen.host.toLowerCase();
  if (listenHost === "0.0.0.0" || listenHost === "::") {
    // Listening everywhere: this machine's own addresses are its listen addresses.
    for (const list of Object.values(networkInterfaces()))
      for (const a of list ?? [])
        allowed.add(a.family === "IPv6" ? `[${a.address.toLowerCase()}]` : a.address);
  } else allowed.add(listenHost.includes(":") ? `[${listenHost}]` : listenHost);
  return allowed.has(hostname);
}

/** The composition root: opens the database, wires Slack and HTTP, and listens. */
export async function startBot(opts: BotOptions): Promise<Bot> {
  const { env, config, logger } = opts;
  const mode = slackMode(env);
  const metrics = createMetrics();
  const database =
    opts.database ?? (await openDatabase({ url: env.DATABASE_URL, dataDir: env.MLOPS_DATA_DIR }, logger));
  let http: HttpApp | undefined;
  let slack: App | undefined;
  let started: Feature[] = [];
  let running: Feature[] = [];
  let selfUrl: string | undefined;
  const stopFeatures = async () => {
    for (const f of [...running].reverse()) {
      try {
        await f.stop?.();
      } catch (err) {
        logger.error({ err, feature: f.name }, "feature failed to stop cleanly");
      }
    }
    running = [];
  };
  // In sandbox mode the page streams demo traffic through the API and logs the browser into the
  // incident log in-process: without MLOPS_API_TOKEN it uses a random token known to nobody else.
  const apiToken =
    env.MLOPS_API_TOKEN ??
    (mode === "sandbox" ? `mlops_sandbox_${randomBytes(20).toString("hex")}` : undefined);
  let demo: DemoTraffic | undefined;
  let liveness: Liveness | undefined;
  const apiTokens = createApiTokenService(database.db, opts.clock ?? systemClock, apiToken);
  try {
    await migrateWithRetry(database, logger);
    // Written before any feature can take a claim: every claim names a process that is known alive.
    liveness = createLiveness({
      db: database.db,
      logger,
      heartbeatMs: config.liveness.heartbeat,
      singleProcess: database.kind === "pglite",
    });
    await liveness.start();
    const audit = createAuditLog(database.db, logger);
    const access = createAccessControl(
      config,
      slackGroupDirectory(() => {
        if (!slack) throw new Error("Slack is not connected yet");
        return slack.client;
      }, logger),
    );
    const features = (opts.features ?? createFeatures)({
      config,
      database,
      logger,
      metrics,
      clock: opts.clock ?? systemClock,
      audit,
      access,
      apiTokens,
      runbooksDir: env.MLOPS_RUNBOOKS_DIR,
      dataDir: env.MLOPS_DATA_DIR,
      hostEnv: opts.hostEnv ?? {},
      selfUrl: () => selfUrl,
      liveness: { id: liveness.id, heartbeatMs: liveness.heartbeatMs },
    });
    started = features;
    const router = createCommandRouter(features.flatMap((f) => f.commands ?? []));

    const sandboxToken = `xoxb-sandbox-${randomBytes(12).toString("hex")}`;
    const signingSecret =
      mode === "sandbox"
        ? randomBytes(16).toString("hex")
        : (env.SLACK_SIGNING_SECRET ?? "unused-in-socket-mode");
    // Socket Mode with Slack (SLACK_APP_TOKEN), or against the sandbox's own Socket Mode endpoint.
    const sandboxSocket = mode === "sandbox" && env.MLOPS_SANDBOX_SOCKET === "1";
    const useSocket = mode === "socket" || sandboxSocket;
    const receiver = useSocket
      ? undefined
      : new FastifySlackReceiver({ signingSecret, logger, metrics, now: opts.now });
    const workspace = mode === "sandbox" ? new SandboxWorkspace(sandboxSeedFromConfig(config)) : undefined;
    const appToken = sandboxSocket ? `xapp-sandbox-${randomBytes(12).toString("hex")}` : env.SLACK_APP_TOKEN;
    const socketHub =
      workspace && sandboxSocket
        ? new SandboxSocketMode({ appToken: appToken as string, appId: workspace.bot.appId })
        : undefined;
    let sandbox: SandboxHandle | undefined;
    const inject = async (url: string, contentType: string, payload: string) => {
      if (!http) throw new Error("the HTTP server is not ready yet");
      return http.inject({
        method: "POST",
        url,
        headers: { "content-type": contentType, authorization: `Bearer ${apiToken}` },
        payload,
      });
    };
    if (workspace && config.models.some((m) => m.slug === DEMO_MODEL)) {
      demo = createDemoTraffic({
        post: async (path, body) => {
          const res = await inject(
            `/api/v1/models/${DEMO_MODEL}/${path}`,
            "application/json",
            JSON.stringify(body),
          );
          if (res.statusCode >= 300) throw new Error(`${path}: ${res.statusCode} ${res.body.slice(0, 300)}`);
          return res.json();
        },
        log: (message) => logger.info({ component: "demo" }, message),
        service: async () => {
          const address = new URL(config.models.find((m) => m.slug === DEMO_MODEL)?.service_url ?? "");
          if (!["127.0.0.1", "localhost"].includes(address.hostname) || !address.port)
            throw new Error("the demo model's service_url is not a local address with a port");
          return startFraudService({ port: Number(address.port), host: address.hostname, score: fraudScore });
        },
      });
    }

    const sandboxPlugins: FastifyPluginAsync[] = workspace
      ? [
          async (scope: FastifyInstance) =>
            registerSandbox(scope, {
              workspace,
              token: sandboxToken,
              ...(socketHub ? { socket: socketHub } : {}),
            }),
          sandboxPageRoutes({
            workspace,
            driver: () => {
              if (!sandbox) throw new Error("the sandbox driver is not ready yet");
              return sandbox.driver;
            },
            demo,
            defaultChannel: config.models[0]?.alert_channel ?? config.workspace.alert_channel,
            incidentLogLogin: async () => {
              const res = await inject(
                "/incidents/login",
                "application/x-www-form-urlencoded",
                new URLSearchParams({ token: apiToken ?? "", next: "/incidents" }).toString(),
              );
              const cookies = res.headers["set-cookie"];
              return Array.isArray(cookies) ? cookies : cookies ? [cookies] : [];
            },
          }),
          sandboxActRoutes({
            workspace,
            driver: () => {
              if (!sandbox) throw new Error("the sandbox driver is not ready yet");
              return sandbox.driver;
            },
          }),
        ]
      : [];
    const host = listenHost(env);
    const listenAddress = { host };

    http = buildHttpApp({
      logger,
      database,
      metrics,
      degraded: () => {
        const details: Record<string, unknown> = {};
        for (const f of features) {
          const d = f.degraded?.();
          if (d) details[f.name] = d;
        }
        return details;
      },
      trustProxy: env.TRUST_PROXY,
      slackPlugin: receiver?.plugin,
      plugins: [
        ...features.filter((f) => f.http).map((f) => ({ plugin: f.http as NonNullable<Feature["http"]> })),
        ...(workspace
          ? [
              {
                prefix: "/sandbox",
                // One scope for every sandbox route, so the Host check below covers all of them.
                plugin: async (scope: FastifyInstance) => {
                  scope.addHook("onRequest", async (req, reply) => {
                    if (sandboxHostAllowed(req.headers.host, listenAddress)) return;
                    await reply.code(403).send({
                      error: "forbidden_host",
                      message:
                        "the sandbox answers only requests addressed to this machine (localhost or its listen address)",
                    });
                  });
                  for (const sub of sandboxPlugins) await scope.register(sub);
                },
              },
            ]
          : []),
      ],
    });
    await http.listen({ port: env.PORT, host });
    const address = http.server.address();
    const port = typeof address === "object" && address ? address.port : env.PORT;
    const url = `http://${host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host}:${port}`;
    selfUrl = url;

    // The Bolt app is built once the port is known, because in sandbox mode its Web API base URL is
    // this very server. Until then the Slack route answers 503, which Slack treats as retryable.
    const apiUrl = workspace ? `${url}/sandbox/api/` : env.SLACK_API_URL;
    const identity = workspace
      ? { botId: SANDBOX_BOT.botId, botUserId: SANDBOX_BOT.userId }
      : await checkToken(env.SLACK_BOT_TOKEN as string, apiUrl, logger);
    const socketReceiver = useSocket
      ? new SocketReceiver({
          appToken: appToken as string,
          apiUrl,
          logger,
          metrics,
          ...(opts.slackRetries !== undefined ? { retries: opts.slackRetries } : {}),
        })
      : undefined;
    slack = createSlackApp({
      token: workspace ? sandboxToken : (env.SLACK_BOT_TOKEN as string),
      apiUrl,
      transport: { kind: "receiver", receiver: (receiver ?? socketReceiver) as Receiver },
      logger,
      router,
      commandDeps: { config, audit, access },
      retries: opts.slackRetries,
      listeners: features.flatMap((f) => (f.slack ? [f.slack] : [])),
      ...(identity ? { identity } : {}),
    });
    if (socketReceiver) await slack.start();
    for (const f of started) {
      await f.start?.(slack);
      running.push(f);
    }

    sandbox = workspace
      ? {
          workspace,
          signingSecret,
          socket: socketHub,
          driver: new SandboxDriver({
            botUrl: `${url}/slack/events`,
            signingSecret,
            workspace,
            sandboxBaseUrl: `${url}/sandbox/`,
            ...(socketHub ? { socket: socketHub } : {}),
          }),
        }
      : undefined;
    http.setStarted();
    logger.info(
      {
        url,
        slack: sandboxSocket ? "sandbox over Socket Mode" : mode,
        database: database.kind,
        process: liveness.id,
      },
      "mlops-bot is listening",
    );

    const httpApp = http;
    const slackApp = slack;
    const alive = liveness;
    let closing: Promise<void> | undefined;
    return {
      url,
      http: httpApp,
      database,
      slack: slackApp,
      metrics,
      sandbox,
      close() {
        closing ??= (async () => {
          httpApp.setDraining();
          await demo?.shutdown();
          if (useSocket) await slackApp.stop().catch(() => {});
          await httpApp.close();
          await stopFeatures();
          await apiTokens.close();
          // Every claim is finished or given back by now: this process holds nothing.
          await alive.stop();
          await audit.flush();
          await database.close();
          logger.info("mlops-bot stopped");
        })();
        return closing;
      },
    };
  } catch (err) {
    await demo?.shutdown();
    // A Socket Mode connection (or its reconnect loop) would otherwise keep the process alive.
    await slack?.stop().catch(() => {});
    await stopFeatures();
    await liveness?.stop();
    await http?.close().catch(() => {});
    if (!opts.database) await database.close().catch(() => {});
    throw err;
  }
}
