/**
 * Secrets never reach the log: the bot runs as its own process at the most verbose level with
 * known credentials, is driven through the API and Slack (errors and Slack failures included), and
 * its whole output is searched for the API token, the signing secret and the bot token.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { SandboxDriver, type SandboxServer, startSandboxServer } from "../../src/slack/sandbox/index.js";
import { sandboxSeedFromConfig } from "../../src/slack/sandbox-seed.js";
import { eventually } from "../e2e/incidents-bot.js";
import { demoConfig } from "../helpers/bot.js";
import { fraudRow, seeded } from "../helpers/monitoring.js";
import { type BotProcess, freePort, spawnBot, waitForStatus } from "../helpers/process.js";

const BOT_TOKEN = "xoxb-4242424242-secretbottokenvalue0123";
const SIGNING_SECRET = "signingsecretvalue0123456789abcdef";
const API_TOKEN = "mlops_apitokensecretvalue0123456789abcdef01";

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe("secrets in logs", () => {
  it("the API token, the signing secret and the bot token appear nowhere in the trace-level log", async () => {
    const sandbox: SandboxServer = await startSandboxServer({
      token: BOT_TOKEN,
      seed: sandboxSeedFromConfig(demoConfig()),
    });
    cleanups.push(() => sandbox.close());
    const dataDir = mkdtempSync(join(tmpdir(), "mlops-secrets-"));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const bot: BotProcess = spawnBot({
      PORT: String(port),
      HOST: "127.0.0.1",
      LOG_LEVEL: "trace",
      MLOPS_DATA_DIR: dataDir,
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: sandbox.apiUrl,
      MLOPS_API_TOKEN: API_TOKEN,
    });
    cleanups.push(async () => {
      if (bot.child.exitCode === null && bot.child.signalCode === null) {
        bot.child.kill("SIGTERM");
        await bot.exited;
      }
    });
    await waitForStatus(`${base}/readyz`, 60_000);
    const driver = new SandboxDriver({
      botUrl: `${base}/slack/events`,
      signingSecret: SIGNING_SECRET,
      workspace: sandbox.workspace,
      sandboxBaseUrl: sandbox.url,
    });

    // The API: a good token, a bad one, a token in odd places, a failing body.
    const api = (path: string, auth: string, body?: unknown) =>
      fetch(`${base}${path}`, {
        method: body === undefined ? "GET" : "POST",
        headers: { authorization: auth, "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }).then(async (r) => ({ status: r.status, text: await r.text() }));
    const rand = seeded(5);
    expect(
      (
        await api("/api/v1/models/fraud-detector/predictions", `Bearer ${API_TOKEN}`, [
          fraudRow(rand, "s1", new Date()),
        ])
      ).status,
    ).toBe(200);
    expect((await api("/api/v1/incidents", `Bearer ${API_TOKEN}x`)).status).toBe(401);
    expect((await api("/api/v1/incidents", `Basic ${API_TOKEN}`)).status).toBe(401);
    expect((await api(`/api/v1/incidents?token=${API_TOKEN}`, `Bearer ${API_TOKEN}`)).status).toBe(400);
    expect(
      (await api("/api/v1/models/fraud-detector/predictions", `Bearer ${API_TOKEN}`, [{ id: API_TOKEN }]))
        .status,
    ).toBe(400);

    // Slack fails for a while: the outbox retries and logs each failure.
    sandbox.workspace.faults.add({ method: "chat.postMessage", kind: "http_error", status: 503, times: 2 });
    sandbox.workspace.faults.add({
      method: "chat.postMessage",
      kind: "rate_limited",
      retryAfterSec: 1,
      times: 1,
    });
    sandbox.workspace.faults.add({
      method: "chat.update",
      kind: "ok_false",
      error: "invalid_auth",
      times: 1,
    });
    const alert = await api("/api/v1/alertmanager", `Bearer ${API_TOKEN}`, {
      version: "4",
      status: "firing",
      alerts: [
        {
          status: "firing",
          labels: { alertname: "SecretsCheck", model: "fraud-detector", severity: "critical" },
          annotations: { summary: "scorer down" },
          startsAt: new Date().toISOString(),
        },
      ],
    });
    expect(alert.status).toBe(200);
    const card = await eventually(
      "the incident card",
      () => sandbox.workspace.messages("fraud-alerts").find((m) => m.text.startsWith("INC-1 [")),
      20_000,
    );

    // Slack: commands, a click, forged requests.
    expect((await driver.command("U0OLIVIA", "fraud-alerts", "help")).status).toBe(200);
    expect((await driver.command("U0GUEST", "fraud-alerts", `ack INC-1 ${SIGNING_SECRET}`)).status).toBe(200);
    expect((await driver.clickButton("U0OLIVIA", card, "incident_acknowledge")).status).toBe(200);
    expect((await driver.command("U0OLIVIA", "fraud-alerts", "help", { signature: "v0=00" })).status).toBe(
      401,
    );
    expect(
      (await driver.rawPost("payload=%7B", { "content-type": "application/x-www-form-urlencoded" })).status,
    ).toBe(401);
    await new Promise((r) => setTimeout(r, 1500)); // retries and batched writes

    bot.child.kill("SIGTERM");
    await bot.exited;
    const log = bot.output();
    // The log is there and verbose: the check below is not vacuous.
    expect(log).toMatch(/"level":20/);
    expect(log).toMatch(/Slack write failed; will retry|rate-limited/);
    expect(log).toContain("refused a Slack request with an invalid signature");
    for (const [name, secret] of [
      ["API token", API_TOKEN],
      ["signing secret", SIGNING_SECRET],
      ["bot token", BOT_TOKEN],
      ["bot token's secret part", BOT_TOKEN.slice(16)],
    ] as const) {
      const at = log.indexOf(secret);
      expect(at, `${name} in the log: …${log.slice(Math.max(0, at - 300), at + 100)}…`).toBe(-1);
    }
  }, 120_000);
});
