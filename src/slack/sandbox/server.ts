import Fastify, { type FastifyInstance } from "fastify";
import { sandboxResponseUrls } from "./response-url.js";
import { SandboxSocketMode } from "./socket-hub.js";
import { sandboxSocketRoutes } from "./socket-routes.js";
import { sandboxWebApi } from "./web-api.js";
import { type SandboxSeed, SandboxWorkspace } from "./workspace.js";

/** What `registerSandbox` mounts. */
export interface RegisterSandboxOptions {
  workspace: SandboxWorkspace;
  /** The only bot token the Web API accepts. */
  token: string;
  /** Mount point, e.g. `/sandbox`; routes are then `/sandbox/api/:method`, `/sandbox/upload/:id`, `/sandbox/response/:id`. */
  prefix?: string;
  /** Public base url (ending in `/`) for upload_urls; derived from each request when absent. */
  publicUrl?: string;
  /** Socket Mode: serves `apps.connections.open` and the WebSocket endpoint `/socket`. */
  socket?: SandboxSocketMode;
}

/** Mounts the sandbox routes (Web API, uploads, response_urls) on a fastify instance, each in its own encapsulated scope. */
export function registerSandbox(app: FastifyInstance, options: RegisterSandboxOptions): void {
  const { workspace, token, prefix, publicUrl, socket } = options;
  const mount = prefix ? { prefix } : {};
  app.register(sandboxWebApi, { workspace, token, ...(publicUrl ? { publicUrl } : {}), ...mount });
  app.register(sandboxResponseUrls, { workspace, ...mount });
  if (socket) app.register(sandboxSocketRoutes, { workspace, socket, ...mount });
}

/** How to start a standalone sandbox server. */
export interface StartSandboxOptions {
  /** Defaults to 127.0.0.1. */
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** The workspace to build; ignored when `workspace` is given. */
  seed?: SandboxSeed;
  /** Serve an existing workspace instead of building one from `seed`. */
  workspace?: SandboxWorkspace;
  /** Epoch-ms clock for a workspace built from `seed`. */
  clock?: () => number;
  /** The only bot token the Web API accepts. */
  token: string;
  /** Serve Socket Mode too, accepting this app-level token (`xapp-…`). */
  appToken?: string;
}

/** A running sandbox server. */
export interface SandboxServer {
  /** Base url ending in `/`, e.g. `http://127.0.0.1:41234/`; use as the driver's sandboxBaseUrl. */
  url: string;
  /** `url + "api/"`: give it to `WebClient`'s / Bolt's `slackApiUrl`. */
  apiUrl: string;
  workspace: SandboxWorkspace;
  /** The Socket Mode side, when started with an `appToken`. */
  socket: SandboxSocketMode | undefined;
  app: FastifyInstance;
  close(): Promise<void>;
}

/** Starts a standalone sandbox (its own fastify, routes at the root) and waits until it listens. */
export async function startSandboxServer(options: StartSandboxOptions): Promise<SandboxServer> {
  const host = options.host ?? "127.0.0.1";
  const workspace =
    options.workspace ??
    new SandboxWorkspace(options.seed ?? {}, options.clock ? { clock: options.clock } : {});
  const app = Fastify({ logger: false });
  const socket = options.appToken
    ? new SandboxSocketMode({ appToken: options.appToken, appId: workspace.bot.appId })
    : undefined;
  registerSandbox(app, { workspace, token: options.token, ...(socket ? { socket } : {}) });
  await app.listen({ host, port: options.port ?? 0 });
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  const urlHost = host.includes(":") ? `[${host}]` : host;
  const url = `http://${urlHost}:${port}/`;
  return {
    url,
    apiUrl: `${url}api/`,
    workspace,
    socket,
    app,
    close: async () => {
      await app.close();
    },
  };
}
