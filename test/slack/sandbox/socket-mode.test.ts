import { LogLevel, SocketModeClient } from "@slack/socket-mode";
import { WebClient } from "@slack/web-api";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type SandboxServer, startSandboxServer } from "../../../src/slack/sandbox/index.js";
import { SEED, TOKEN } from "./sandbox-fixture.js";

// The sandbox's Socket Mode side against Slack's own client (@slack/socket-mode), so the protocol
// is held to what the real client speaks: apps.connections.open, hello, envelopes, acks with
// payloads, disconnect, and redelivery of what was not acknowledged.

const APP_TOKEN = "xapp-1-sandbox-test";

let server: SandboxServer;
const clients: SocketModeClient[] = [];

async function start(): Promise<SandboxServer> {
  server = await startSandboxServer({ token: TOKEN, appToken: APP_TOKEN, seed: SEED });
  return server;
}

/** A Socket Mode client pointed at the sandbox, reconnecting after 200 ms instead of 5 s. */
function client(appToken = APP_TOKEN): SocketModeClient {
  const c = new SocketModeClient({
    appToken,
    logLevel: LogLevel.ERROR,
    clientPingTimeout: 200,
    clientOptions: { slackApiUrl: server.apiUrl, retryConfig: { retries: 0 } },
  });
  clients.push(c);
  return c;
}

afterEach(async () => {
  for (const c of clients.splice(0)) await c.disconnect();
  await server?.close();
});

describe("the sandbox's apps.connections.open", () => {
  it("answers the app-level token with a one-use WebSocket URL and refuses a bot token", async () => {
    await start();
    const asApp = new WebClient(APP_TOKEN, { slackApiUrl: server.apiUrl, retryConfig: { retries: 0 } });
    const opened = await asApp.apps.connections.open();
    expect(opened.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/socket\?ticket=[0-9a-f]{32}$/);

    const asBot = new WebClient(TOKEN, { slackApiUrl: server.apiUrl, retryConfig: { retries: 0 } });
    await expect(asBot.apps.connections.open()).rejects.toMatchObject({
      data: { ok: false, error: "not_allowed_token_type" },
    });
    const wrong = new WebClient("xapp-1-wrong", { slackApiUrl: server.apiUrl, retryConfig: { retries: 0 } });
    await expect(wrong.apps.connections.open()).rejects.toMatchObject({ data: { error: "invalid_auth" } });
  });

  it("lets a ticket open one connection only, and refuses a made-up one", async () => {
    await start();
    const asApp = new WebClient(APP_TOKEN, { slackApiUrl: server.apiUrl, retryConfig: { retries: 0 } });
    const url = (await asApp.apps.connections.open()).url as string;
    const first = new WebSocket(url);
    const hello = await new Promise<Record<string, unknown>>((resolve) =>
      first.once("message", (data) => resolve(JSON.parse(String(data)))),
    );
    expect(hello).toMatchObject({
      type: "hello",
      num_connections: 1,
      connection_info: { app_id: "A0MLOPSBOT" },
    });
    for (const again of [url, url.replace(/ticket=.*/, "ticket=made-up")]) {
      const refused = new WebSocket(again);
      const status = await new Promise<number>((resolve) =>
        refused.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0)),
      );
      expect(status).toBe(401);
    }
    first.close();
  });
});

describe("envelopes over the sandbox's Socket Mode", () => {
  it("delivers a slash command and resolves with the ack's payload, acked by envelope_id", async () => {
    await start();
    const c = client();
    c.on("slash_commands", async ({ ack, body, envelope_id }) => {
      expect(typeof envelope_id).toBe("string");
      await ack({ text: `you said ${body.text}` });
    });
    await c.start();
    const ack = await server.socket?.deliver("slash_commands", { command: "/mlops", text: "help" });
    expect(ack).toMatchObject({ type: "slash_commands", payload: { text: "you said help" }, connection: 1 });
    expect(server.socket?.deliveries.map((d) => d.envelopeId)).toEqual([ack?.envelopeId]);
  });

  it("queues an envelope sent while nobody is connected and delivers it on connect", async () => {
    await start();
    const waiting = server.socket?.deliver("interactive", { type: "block_actions" });
    const c = client();
    c.on("interactive", async ({ ack }) => ack());
    await c.start();
    await expect(waiting).resolves.toMatchObject({ type: "interactive", payload: undefined });
  });

  it("redelivers an envelope left unacknowledged by a disconnect on the new connection, under the same envelope_id", async () => {
    await start();
    const socket = server.socket as NonNullable<SandboxServer["socket"]>;
    const c = client();
    const seen: { id: string; connection: number }[] = [];
    c.on("slash_commands", async ({ ack, envelope_id }) => {
      seen.push({ id: envelope_id, connection: socket.opened });
      // The first delivery is left unacknowledged: the server asks for a reconnect meanwhile.
      if (seen.length === 1) socket.disconnect("refresh_requested");
      else await ack({ text: "done" });
    });
    await c.start();
    const ack = await socket.deliver("slash_commands", { command: "/mlops", text: "status" });
    expect(seen).toHaveLength(2);
    expect(seen[0]?.id).toBe(seen[1]?.id);
    expect(seen[1]?.connection).toBe(2);
    expect(ack).toMatchObject({ connection: 2, payload: { text: "done" } });
    expect(socket.deliveries.map((d) => [d.connection, d.attempt])).toEqual([
      [1, 1],
      [2, 2],
    ]);
  });

  it("when the connection is dropped without a close frame, the client reconnects and envelopes flow again", async () => {
    await start();
    const socket = server.socket as NonNullable<SandboxServer["socket"]>;
    const c = client();
    c.on("slash_commands", async ({ ack }) => ack({ text: "pong" }));
    await c.start();
    expect(socket.drop()).toBe(1);
    await socket.waitForConnection(2);
    const ack = await socket.deliver("slash_commands", { command: "/mlops", text: "ping" });
    expect(ack).toMatchObject({ connection: 2, payload: { text: "pong" } });
  });

  it("closes a connection told to reconnect that is still open after the grace period, and redelivers its envelopes", async () => {
    await start();
    const socket = server.socket as NonNullable<SandboxServer["socket"]>;
    const asApp = new WebClient(APP_TOKEN, { slackApiUrl: server.apiUrl, retryConfig: { retries: 0 } });
    // A raw client that ignores the disconnect message and never acks.
    const stubborn = new WebSocket((await asApp.apps.connections.open()).url as string);
    await socket.waitForConnection(1);
    const waiting = socket.deliver("slash_commands", { command: "/mlops", text: "status" });
    socket.disconnect("warning", 100);
    const closed = await new Promise<number>((resolve) => stubborn.once("close", (code) => resolve(code)));
    expect(closed).toBe(1001);
    const c = client();
    c.on("slash_commands", async ({ ack }) => ack({ text: "late but once" }));
    await c.start();
    await expect(waiting).resolves.toMatchObject({ connection: 2, payload: { text: "late but once" } });
  });
});
