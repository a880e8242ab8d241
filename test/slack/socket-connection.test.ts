import { LogLevel, SocketModeClient } from "@slack/socket-mode";
import { afterEach, describe, expect, it } from "vitest";
import { type SandboxServer, startSandboxServer } from "../../src/slack/sandbox/index.js";
import { reconnectDelayMs, SocketConnection } from "../../src/slack/socket-connection.js";
import { testLogger } from "../helpers/db.js";

const APP_TOKEN = "xapp-1-connection-test";
const POLICY = { baseMs: 50, maxMs: 200 };

describe("reconnectDelayMs", () => {
  it("tries again at once, then backs off exponentially with jitter up to the cap", () => {
    const policy = { baseMs: 1_000, maxMs: 30_000 };
    expect(reconnectDelayMs(1, policy, () => 0.99)).toBe(0);
    expect([2, 3, 4, 5].map((n) => reconnectDelayMs(n, policy, () => 1))).toEqual([
      1_000, 2_000, 4_000, 8_000,
    ]);
    expect(reconnectDelayMs(3, policy, () => 0)).toBe(1_000);
    expect(reconnectDelayMs(20, policy, () => 1)).toBe(30_000);
  });
});

describe("SocketConnection", () => {
  const servers: SandboxServer[] = [];
  const stops: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const stop of stops.splice(0)) await stop();
    for (const s of servers.splice(0)) await s.close();
  });

  async function server(port = 0): Promise<SandboxServer> {
    const s = await startSandboxServer({ token: "xoxb-t", appToken: APP_TOKEN, seed: {}, port });
    servers.push(s);
    return s;
  }

  function connect(apiUrl: string, appToken = APP_TOKEN): SocketConnection {
    const client = new SocketModeClient({
      appToken,
      logLevel: LogLevel.ERROR,
      autoReconnectEnabled: false,
      clientOptions: { slackApiUrl: apiUrl, retryConfig: { retries: 0 } },
    });
    const connection = new SocketConnection(client, testLogger, POLICY);
    stops.push(() => connection.stop());
    return connection;
  }

  it("when Slack is gone for a while (connection refused, then 503s), keeps trying and connects once it is back", async () => {
    const first = await server();
    const port = Number(new URL(first.url).port);
    const connection = connect(first.apiUrl);
    await connection.start();
    await first.close();
    servers.length = 0;
    // Nobody listens for a moment: apps.connections.open fails with a network error, which made
    // the client's own reconnection stop for good.
    await new Promise((r) => setTimeout(r, 300));
    const back = await server(port);
    back.workspace.faults.add({ method: "apps.connections.open", kind: "http_error", status: 503, times: 2 });
    await back.socket?.waitForConnection(1, 5_000);
    const opens = back.workspace.requests("apps.connections.open").map((r) => r.status);
    expect(opens).toEqual([503, 503, 200]);
  });

  it("a refused app-level token stops the start with a message naming SLACK_APP_TOKEN", async () => {
    const s = await server();
    const connection = connect(s.apiUrl, "xapp-1-wrong");
    await expect(connection.start()).rejects.toThrow(/SLACK_APP_TOKEN was refused by Slack \(invalid_auth\)/);
    expect(s.socket?.opened).toBe(0);
  });

  it("after stop, a dropped connection is not reopened", async () => {
    const s = await server();
    const connection = connect(s.apiUrl);
    await connection.start();
    await connection.stop();
    await new Promise((r) => setTimeout(r, 300));
    expect(s.socket?.opened).toBe(1);
    expect(s.socket?.connections).toBe(0);
  });
});
