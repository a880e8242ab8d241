import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { FastifyInstance } from "fastify";
import { fail } from "./api-types.js";
import { applyFault, createFinish, publicBaseUrl, requestToken } from "./route-support.js";
import type { SandboxSocketMode } from "./socket-hub.js";
import type { SandboxWorkspace } from "./workspace.js";

/** Options of the Socket Mode routes. */
export interface SandboxSocketRoutesOptions {
  workspace: SandboxWorkspace;
  socket: SandboxSocketMode;
}

/**
 * `POST /api/apps.connections.open` (app-level token only, as Slack: a bot token gets
 * `not_allowed_token_type`) and the WebSocket endpoint `/socket?ticket=…` it hands out.
 * Scripted faults apply to `apps.connections.open` like to any Web API method.
 */
export async function sandboxSocketRoutes(
  app: FastifyInstance,
  opts: SandboxSocketRoutesOptions,
): Promise<void> {
  const { workspace, socket } = opts;
  // The Socket Mode client posts an empty form; its arguments are not needed.
  app.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string" }, (_req, _body, done) =>
    done(null, {}),
  );
  app.post("/api/apps.connections.open", async (request, reply) => {
    const finish = createFinish(workspace, reply, "apps.connections.open", {});
    if (await applyFault(workspace, "apps.connections.open", reply, finish)) return reply;
    const given = requestToken(request.headers.authorization, {});
    if (!given) return finish(200, fail("not_authed"));
    if (given !== socket.appToken)
      return finish(200, fail(given.startsWith("xapp-") ? "invalid_auth" : "not_allowed_token_type"));
    const base = publicBaseUrl(request.protocol === "https" ? "wss" : "ws", request.host, app.prefix);
    return finish(200, { ok: true, url: socket.openUrl(base) });
  });

  const path = `${app.prefix.replace(/\/$/, "")}/socket`;
  const onUpgrade = (req: IncomingMessage, duplex: Duplex, head: Buffer) => {
    if (socket.handleUpgrade(req, duplex, head, path)) return;
    // Nothing else in this process takes upgrades: refuse instead of leaving the socket hanging.
    if (app.server.listenerCount("upgrade") === 1)
      duplex.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n");
  };
  app.server.on("upgrade", onUpgrade);
  // Before the server closes: it would otherwise wait for the WebSocket connections forever.
  app.addHook("preClose", async () => {
    app.server.off("upgrade", onUpgrade);
    await socket.close();
  });
}
