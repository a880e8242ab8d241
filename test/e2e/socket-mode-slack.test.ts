import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Bot, startBot } from "../../src/bot.js";
import { checkBotEnv, parseEnv, slackMode } from "../../src/config/index.js";
import { createLogger } from "../../src/shared/logger.js";
import { SandboxDriver, type SandboxServer, startSandboxServer } from "../../src/slack/sandbox/index.js";
import { sandboxSeedFromConfig } from "../../src/slack/sandbox-seed.js";
import { demoConfig } from "../helpers/bot.js";
import { openTestDatabase } from "../helpers/db.js";

// The bot as a real Slack app in Socket Mode (SLACK_BOT_TOKEN + SLACK_APP_TOKEN), with
// SLACK_API_URL pointing at a standalone sandbox that plays Slack: the production path, not the
// built-in sandbox's shortcut. Logged at debug level, so that no token can hide below the level.

const BOT_TOKEN = "xoxb-socket-test-bot-token";
const APP_TOKEN = "xapp-1-socket-test-app-token";

let server: SandboxServer;
let bot: Bot;
let driver: SandboxDriver;
let log = "";

beforeAll(async () => {
  const config = demoConfig();
  server = await startSandboxServer({
    token: BOT_TOKEN,
    appToken: APP_TOKEN,
    seed: sandboxSeedFromConfig(config),
  });
  const sink = new Writable({
    write(chunk, _encoding, done) {
      log += String(chunk);
      done();
    },
  });
  const env = parseEnv({
    PORT: "0",
    HOST: "127.0.0.1",
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_APP_TOKEN: APP_TOKEN,
    SLACK_API_URL: server.apiUrl,
    MLOPS_API_TOKEN: "mlops_socket_test_token_0123456789",
  });
  checkBotEnv(env);
  expect(slackMode(env)).toBe("socket");
  bot = await startBot({
    env,
    config,
    logger: createLogger("debug", sink),
    slackRetries: 0,
    database: await openTestDatabase(),
    features: () => [],
  });
  driver = new SandboxDriver({
    botUrl: `${bot.url}/slack/events`,
    signingSecret: "unused-over-socket-mode",
    workspace: server.workspace,
    sandboxBaseUrl: server.url,
    socket: server.socket,
  });
});
afterAll(async () => {
  await bot?.close();
  await server?.close();
});

describe("Socket Mode with SLACK_APP_TOKEN", () => {
  it("checks the bot token, opens the connection with the app token at SLACK_API_URL, and answers a command", async () => {
    expect(server.workspace.requests("auth.test")).toHaveLength(1);
    expect(server.workspace.requests("apps.connections.open")).toHaveLength(1);
    expect(bot.sandbox).toBeUndefined();
    const channel = server.workspace.requireChannel("fraud-alerts").id;
    const res = await driver.command("U0DANA", channel, "whoami");
    expect(res.envelopeId).toMatch(/^sbx-/);
    expect(JSON.stringify(res.body)).toContain("U0DANA");
    expect(server.workspace.ephemerals("U0DANA").length).toBeGreaterThan(0);
  });

  it("after a dropped socket it reconnects and answers again", async () => {
    const socket = server.socket as NonNullable<SandboxServer["socket"]>;
    socket.drop();
    await socket.waitForConnection(2);
    const channel = server.workspace.requireChannel("fraud-alerts").id;
    const res = await driver.command("U0DANA", channel, "whoami");
    expect(socket.acks.find((a) => a.envelopeId === res.envelopeId)?.connection).toBe(2);
  });

  it("never logs the bot token, the app token or the socket's ticket", () => {
    expect(log).toContain("Socket Mode connected");
    expect(log).not.toContain(BOT_TOKEN);
    expect(log).not.toContain(APP_TOKEN);
    expect(log).toContain("ticket=[redacted]");
    expect(log).not.toMatch(/ticket=(?!\[redacted\])/);
  });
});
