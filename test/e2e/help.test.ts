import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUDIT_FLUSH_MS, createAuditRepository } from "../../src/audit/index.js";
import { signSlackRequest } from "../../src/slack/signature.js";
import { startTestBot } from "../helpers/bot.js";

type TestBot = Awaited<ReturnType<typeof startTestBot>>;
let bot: TestBot;
const SUBCOMMANDS = [
  "help",
  "whoami",
  "incidents",
  "incident",
  "ack",
  "assign",
  "update",
  "severity",
  "resolve",
  "followup",
  "silence",
  "silences",
  "unsilence",
  "outbox",
  "check",
  "status",
  "models",
  "baseline",
  "escalate",
  "oncall",
  "runbook",
  "retrain",
  "canary",
  "report",
];

beforeAll(async () => {
  bot = await startTestBot();
});
afterAll(async () => {
  await bot?.close();
});

function channelId(name: string): string {
  const channel = bot.sandbox.workspace.channelByName(name);
  if (!channel) throw new Error(`no channel ${name}`);
  return channel.id;
}

function blocksText(body: unknown): string {
  return JSON.stringify((body as { blocks?: unknown }).blocks ?? []);
}

describe("/mlops help over real HTTP", () => {
  it("a signed /mlops help gets an ephemeral help listing every subcommand with one line each", async () => {
    const res = await bot.sandbox.driver.command("U0OLIVIA", channelId("fraud-alerts"), "help");
    expect(res.status).toBe(200);
    const body = res.body as { response_type: string; text: string; blocks: { type: string }[] };
    expect(body.response_type).toBe("ephemeral");
    const text = blocksText(body);
    for (const name of SUBCOMMANDS) expect(text).toContain(`/mlops ${name}`);
    const list = body.blocks.find((b) => b.type === "section") as unknown as { text: { text: string } };
    expect(list.text.text.split("\n")).toHaveLength(SUBCOMMANDS.length);
  });

  it("empty text shows the help", async () => {
    const res = await bot.sandbox.driver.command("U0OLIVIA", channelId("fraud-alerts"), "");
    expect(res.status).toBe(200);
    expect(blocksText(res.body)).toContain("mlops-bot commands");
  });

  it("an unknown subcommand gets an ephemeral error suggesting the closest one", async () => {
    const res = await bot.sandbox.driver.command("U0OLIVIA", channelId("fraud-alerts"), "modles");
    expect(res.status).toBe(200);
    const body = res.body as { response_type: string; text: string };
    expect(body.response_type).toBe("ephemeral");
    expect(body.text).toContain("Unknown command `modles`");
    expect(body.text).toContain("Did you mean `/mlops models`?");
  });

  it("a subcommand with nothing close gets the error and a pointer to help, without echoing markup", async () => {
    const res = await bot.sandbox.driver.command("U0OLIVIA", channelId("fraud-alerts"), "<!channel>xyzzy");
    const body = res.body as { text: string };
    expect(body.text).not.toContain("Did you mean");
    expect(body.text).not.toContain("<!channel>");
    expect(body.text).toContain("/mlops help");
  });

  it("records each command in the audit log with who ran it", async () => {
    const audit = createAuditRepository(bot.database.db);
    await bot.sandbox.driver.command("U0DANA", channelId("fraud-alerts"), "models");
    // Read-only commands are logged in batches after the ack, within AUDIT_FLUSH_MS.
    await new Promise((r) => setTimeout(r, AUDIT_FLUSH_MS + 300));
    const rows = await audit.recent({ actor: "U0DANA" });
    expect(rows[0]).toMatchObject({ source: "slack", action: "command.models", outcome: "ok" });
  });
});

describe("/mlops whoami: permissions from the config and Slack user groups", () => {
  async function whoami(user: string, text = "whoami") {
    const res = await bot.sandbox.driver.command(user, channelId("fraud-alerts"), text);
    expect(res.status).toBe(200);
    return (res.body as { text: string }).text;
  }

  it("an L2 data scientist is in @ds-oncall and may approve and retrain", async () => {
    expect(await whoami("U0DANA")).toBe(
      "You are in @ds-oncall; you may acknowledge, resolve, silence, escalate, run_runbooks, retrain, approve, baseline, manage_outbox, manage_oncall.",
    );
  });

  it("an L1 operator may acknowledge and run runbooks but not retrain", async () => {
    expect(await whoami("U0OLIVIA")).toBe(
      "You are in @mlops-oncall; you may acknowledge, resolve, silence, escalate, run_runbooks.",
    );
  });

  it("a model owner gets the owners' rights only on their model", async () => {
    expect(await whoami("U0MAYA")).toBe("You are in @fraud-ml-team; you may only read.");
    expect(await whoami("U0MAYA", "whoami fraud-detector")).toBe(
      "You are in @fraud-ml-team; you may acknowledge, resolve, silence, escalate, run_runbooks, retrain, approve, baseline, manage_outbox, manage_oncall.",
    );
  });

  it("someone in no group may only read, and an unknown model is named", async () => {
    expect(await whoami("U0GUEST")).toBe("You are in no configured user group; you may only read.");
    expect(await whoami("U0GUEST", "whoami nope")).toContain("No model called `nope`");
  });
});

describe("requests that are not from Slack", () => {
  const body = () =>
    new URLSearchParams({
      command: "/mlops",
      text: "help",
      user_id: "U0OLIVIA",
      channel_id: channelId("fraud-alerts"),
      team_id: "T0SANDBOX",
      trigger_id: "1.2.3",
      response_url: "http://127.0.0.1:1/nowhere",
    }).toString();

  async function post(raw: string, headers: Record<string, string>) {
    const res = await fetch(`${bot.url}/slack/events`, { method: "POST", body: raw, headers });
    return { status: res.status, body: await res.text() };
  }

  async function nothingWritten<T>(fn: () => Promise<T>): Promise<T> {
    const audit = createAuditRepository(bot.database.db);
    await new Promise((r) => setTimeout(r, AUDIT_FLUSH_MS + 300)); // earlier tests' records land first
    const rowsBefore = await audit.count();
    const callsBefore = bot.sandbox.workspace.requests().length;
    const result = await fn();
    await new Promise((r) => setTimeout(r, AUDIT_FLUSH_MS + 300));
    expect(await audit.count()).toBe(rowsBefore);
    expect(bot.sandbox.workspace.requests().length).toBe(callsBefore);
    return result;
  }

  const form = { "content-type": "application/x-www-form-urlencoded" };
  const now = () => Math.floor(Date.now() / 1000);

  it("a forged signature gets 401 and writes nothing", async () => {
    const raw = body();
    const res = await nothingWritten(() =>
      post(raw, {
        ...form,
        "x-slack-request-timestamp": String(now()),
        "x-slack-signature": signSlackRequest("not-the-secret", now(), raw),
      }),
    );
    expect(res).toEqual({ status: 401, body: '{"error":"invalid_signature"}' });
  });

  it("a correctly signed request with a timestamp 6 minutes old gets 401 and writes nothing", async () => {
    const raw = body();
    const old = now() - 6 * 60;
    const res = await nothingWritten(() =>
      post(raw, {
        ...form,
        "x-slack-request-timestamp": String(old),
        "x-slack-signature": signSlackRequest(bot.sandbox.signingSecret, old, raw),
      }),
    );
    expect(res.status).toBe(401);
  });

  it("a request without a signature gets 401 and writes nothing", async () => {
    const res = await nothingWritten(() => post(body(), form));
    expect(res.status).toBe(401);
  });

  it("a signed but malformed body gets 400 and writes nothing", async () => {
    for (const [raw, type] of [
      ["payload=%7Bnot-json", "application/x-www-form-urlencoded"],
      ["payload=%5B1%2C2%5D", "application/x-www-form-urlencoded"],
      ["hello=world", "application/x-www-form-urlencoded"],
      ["{broken", "application/json"],
      ["<xml/>", "text/xml"],
    ] as const) {
      const ts = now();
      const res = await nothingWritten(() =>
        post(raw, {
          "content-type": type,
          "x-slack-request-timestamp": String(ts),
          "x-slack-signature": signSlackRequest(bot.sandbox.signingSecret, ts, raw),
        }),
      );
      expect(res.status, `${type} ${raw}`).toBe(400);
    }
  });

  it("answers url_verification with the challenge and ssl_check with an empty 200", async () => {
    const raw = JSON.stringify({ type: "url_verification", challenge: "abc123", token: "x" });
    const ts = now();
    const verified = await post(raw, {
      "content-type": "application/json",
      "x-slack-request-timestamp": String(ts),
      "x-slack-signature": signSlackRequest(bot.sandbox.signingSecret, ts, raw),
    });
    expect(verified).toEqual({ status: 200, body: '{"challenge":"abc123"}' });
    expect(await post("ssl_check=1&token=x", form)).toEqual({ status: 200, body: "" });
  });

  it("counts Slack requests by kind and outcome in /metrics", async () => {
    const text = await (await fetch(`${bot.url}/metrics`)).text();
    expect(text).toMatch(/mlops_slack_requests_total\{kind="command",outcome="ok"\} [1-9]/);
    expect(text).toMatch(/mlops_slack_requests_total\{kind="unknown",outcome="bad_signature"\} [1-9]/);
    expect(text).toMatch(/mlops_slack_ack_duration_seconds_count\{kind="command"\} [1-9]/);
  });
});
