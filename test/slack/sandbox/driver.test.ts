import type { View } from "@slack/web-api";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SandboxDriver, type SandboxMessage } from "../../../src/slack/sandbox/index.js";
import { type FakeBot, startFakeBot } from "./fake-bot.js";
import { type Fixture, manualClock, startFixture } from "./sandbox-fixture.js";

const SECRET = "8f742231b10e8888abcd99yyyzzz85a5";

const retrainModal: View = {
  type: "modal",
  callback_id: "retrain",
  private_metadata: "churn-v3",
  title: { type: "plain_text", text: "Retrain" },
  submit: { type: "plain_text", text: "Queue" },
  blocks: [
    {
      type: "input",
      block_id: "reason",
      label: { type: "plain_text", text: "Reason" },
      element: { type: "plain_text_input", action_id: "reason_text" },
    },
    {
      type: "input",
      block_id: "window",
      label: { type: "plain_text", text: "Training window" },
      element: {
        type: "static_select",
        action_id: "window_select",
        options: [
          { text: { type: "plain_text", text: "7 days" }, value: "7d" },
          { text: { type: "plain_text", text: "30 days" }, value: "30d" },
        ],
        initial_option: { text: { type: "plain_text", text: "7 days" }, value: "7d" },
      },
    },
  ],
};

describe("SandboxDriver against a bot", () => {
  let fx: Fixture;
  let bot: FakeBot;
  let driver: SandboxDriver;
  let clock: ReturnType<typeof manualClock>;

  beforeEach(async () => {
    clock = manualClock(Date.now());
    fx = await startFixture({ clock: clock.now });
    bot = await startFakeBot(SECRET);
    driver = new SandboxDriver({
      botUrl: bot.url,
      signingSecret: SECRET,
      workspace: fx.server.workspace,
      sandboxBaseUrl: fx.server.url,
    });
  });
  afterEach(async () => {
    await bot.close();
    await fx.server.close();
  });

  async function postWithButtons(channel = "C0ALERTS"): Promise<SandboxMessage> {
    const posted = await fx.client.chat.postMessage({
      channel,
      text: "Drift on churn-v3",
      blocks: [
        { type: "section", text: { type: "mrkdwn", text: "*Drift* on churn-v3" } },
        {
          type: "actions",
          block_id: "incident-actions",
          elements: [
            {
              type: "button",
              action_id: "ack",
              value: "incident-42",
              style: "primary",
              text: { type: "plain_text", text: "Acknowledge" },
            },
            {
              type: "button",
              action_id: "retrain",
              value: "churn-v3",
              text: { type: "plain_text", text: "Retrain" },
            },
          ],
        },
      ],
    });
    const message = fx.server.workspace.message(posted.channel ?? "", posted.ts ?? "");
    if (!message) throw new Error("message not stored");
    return message;
  }

  it("a slash command arrives signed, exactly form-encoded, with every slash-command field", async () => {
    const response = await driver.command("U0ALICE", "#ml-alerts", "status churn-v3");
    expect(response.status).toBe(200);
    const [request] = bot.received;
    expect(request?.signatureValid).toBe(true);
    expect(request?.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(Math.abs(Number(request?.headers["x-slack-request-timestamp"]) - Date.now() / 1000)).toBeLessThan(
      5,
    );
    expect(Object.keys(request?.body ?? {}).sort()).toEqual(
      [
        "token",
        "team_id",
        "team_domain",
        "channel_id",
        "channel_name",
        "user_id",
        "user_name",
        "command",
        "text",
        "api_app_id",
        "is_enterprise_install",
        "response_url",
        "trigger_id",
      ].sort(),
    );
    expect(request?.body).toMatchObject({
      team_id: "T0SANDBOX",
      channel_id: "C0ALERTS",
      channel_name: "ml-alerts",
      user_id: "U0ALICE",
      user_name: "alice",
      command: "/mlops",
      text: "status churn-v3",
      is_enterprise_install: "false",
    });
    expect(request?.body.response_url).toMatch(new RegExp(`^${fx.server.url}response/`));
  });

  it("a command's JSON ack body becomes an ephemeral reply for the invoking user", async () => {
    bot.reply = () => ({ body: { text: "churn-v3 is healthy" } });
    const response = await driver.command("U0ALICE", "C0ALERTS", "status churn-v3");
    expect(response.ack).toMatchObject({ ok: true, kind: "ephemeral" });
    expect(fx.server.workspace.ephemerals("U0ALICE")).toMatchObject([
      { channel: "C0ALERTS", text: "churn-v3 is healthy", source: "ack" },
    ]);
    expect(fx.server.workspace.messages("C0ALERTS")).toEqual([]);
  });

  it("an empty command ack leaves no trace in the channel", async () => {
    const response = await driver.command("U0ALICE", "C0ALERTS", "help");
    expect(response.body).toBe("");
    expect(response.ack).toBeUndefined();
    expect(fx.server.workspace.ephemerals()).toEqual([]);
  });

  it("a response_url post without response_type becomes an ephemeral for the invoking user in that channel", async () => {
    const { payload } = await driver.command("U0BOB", "ml-ops", "status");
    const answer = await fetch(String(payload.response_url), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ text: "Checking 3 models…" }),
    });
    expect(answer.status).toBe(200);
    const channel = fx.server.workspace.channelByName("ml-ops");
    expect(fx.server.workspace.ephemerals("U0BOB")).toMatchObject([
      { channel: channel?.id, text: "Checking 3 models…", source: "response_url" },
    ]);
  });

  it("a response_url post with response_type in_channel becomes a real channel message", async () => {
    const { payload } = await driver.command("U0BOB", "C0ALERTS", "report");
    await fetch(String(payload.response_url), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ response_type: "in_channel", text: "Weekly report" }),
    });
    expect(fx.server.workspace.messages("C0ALERTS").map((m) => m.text)).toEqual(["Weekly report"]);
  });

  it("a response_url refuses a sixth use with used_url", async () => {
    const { payload } = await driver.command("U0BOB", "C0ALERTS", "status");
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const answer = await fetch(String(payload.response_url), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ text: `update ${i}` }),
      });
      statuses.push(answer.status);
      if (i === 5) expect(await answer.json()).toEqual({ ok: false, error: "used_url" });
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 404]);
  });

  it("a response_url older than 30 minutes is refused with expired_url", async () => {
    const { payload } = await driver.command("U0BOB", "C0ALERTS", "status");
    clock.advance(30 * 60 * 1000 + 1);
    const answer = await fetch(String(payload.response_url), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ text: "too late" }),
    });
    expect(answer.status).toBe(404);
    expect(await answer.json()).toEqual({ ok: false, error: "expired_url" });
  });

  it("clickButton sends block_actions whose value and block_id come from the real message", async () => {
    const message = await postWithButtons();
    await driver.clickButton("U0BOB", message, "ack");
    const body = bot.received[0]?.body ?? {};
    expect(bot.received[0]?.signatureValid).toBe(true);
    expect(body).toMatchObject({
      type: "block_actions",
      user: { id: "U0BOB", username: "bob", team_id: "T0SANDBOX" },
      team: { id: "T0SANDBOX" },
      container: { type: "message", message_ts: message.ts, channel_id: "C0ALERTS", is_ephemeral: false },
      channel: { id: "C0ALERTS", name: "ml-alerts" },
      message: { ts: message.ts, text: "Drift on churn-v3", blocks: message.blocks },
      trigger_id: expect.any(String),
      response_url: expect.stringContaining(`${fx.server.url}response/`),
      actions: [
        {
          type: "button",
          action_id: "ack",
          block_id: "incident-actions",
          value: "incident-42",
          style: "primary",
          action_ts: expect.stringMatching(/^\d+\.\d{6}$/),
        },
      ],
    });
  });

  it("clickButton on an action_id the message does not have throws", async () => {
    const message = await postWithButtons();
    await expect(driver.clickButton("U0BOB", message, "escalate")).rejects.toThrow(
      /no button with action_id "escalate"/,
    );
    expect(bot.received).toEqual([]);
  });

  it("replace_original through a button's response_url edits the clicked message", async () => {
    const message = await postWithButtons();
    const { payload } = await driver.clickButton("U0BOB", message, "ack");
    await fetch(String(payload.response_url), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ replace_original: true, text: "Acknowledged by <@U0BOB>" }),
    });
    expect(fx.server.workspace.message("C0ALERTS", message.ts)).toMatchObject({
      text: "Acknowledged by <@U0BOB>",
      edits: 1,
      blocks: [],
    });
  });

  it("a click on an ephemeral marks the container ephemeral and carries no message", async () => {
    const posted = await fx.client.chat.postEphemeral({
      channel: "C0ALERTS",
      user: "U0ALICE",
      text: "Confirm?",
      blocks: [
        {
          type: "actions",
          elements: [{ type: "button", action_id: "confirm", text: { type: "plain_text", text: "Yes" } }],
        },
      ],
    });
    const ephemeral = fx.server.workspace.ephemeral("C0ALERTS", posted.message_ts ?? "");
    if (!ephemeral) throw new Error("ephemeral not stored");
    const { payload } = await driver.clickButton("U0ALICE", ephemeral, "confirm");
    expect(payload.container).toMatchObject({ message_ts: ephemeral.message_ts, is_ephemeral: true });
    expect(payload).not.toHaveProperty("message");
    await fetch(String(payload.response_url), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ replace_original: true, text: "Done" }),
    });
    expect(fx.server.workspace.ephemeral("C0ALERTS", ephemeral.message_ts)).toMatchObject({
      text: "Done",
      edits: 1,
    });
  });

  it("a click's trigger_id opens a modal, and submitView sends state.values and private_metadata, then the modal closes", async () => {
    const message = await postWithButtons();
    const click = await driver.clickButton("U0BOB", message, "retrain");
    const opened = await fx.client.views.open({
      trigger_id: String(click.payload.trigger_id),
      view: retrainModal,
    });
    const viewId = opened.view?.id ?? "";
    const response = await driver.submitView("U0BOB", viewId, { reason_text: "drift above 0.3" });
    expect(response.status).toBe(200);
    const submitted = bot.received[1]?.body ?? {};
    expect(bot.received[1]?.signatureValid).toBe(true);
    expect(submitted).toMatchObject({
      type: "view_submission",
      user: { id: "U0BOB", username: "bob" },
      trigger_id: expect.any(String),
      view: {
        id: viewId,
        callback_id: "retrain",
        private_metadata: "churn-v3",
        state: {
          values: {
            reason: { reason_text: { type: "plain_text_input", value: "drift above 0.3" } },
            window: { window_select: { type: "static_select", selected_option: { value: "7d" } } },
          },
        },
      },
    });
    expect(fx.server.workspace.view(viewId)?.open).toBe(false);
  });

  it("a view submission answered with response_action errors keeps the modal open", async () => {
    const opened = await fx.client.views.open({
      trigger_id: fx.server.workspace.triggers.issue("U0BOB"),
      view: retrainModal,
    });
    const viewId = opened.view?.id ?? "";
    bot.reply = () => ({ body: { response_action: "errors", errors: { reason: "Say why" } } });
    const response = await driver.submitView("U0BOB", viewId, { reason: "", window_select: "30d" });
    expect(response.body).toEqual({ response_action: "errors", errors: { reason: "Say why" } });
    expect(bot.received[0]?.body.view).toMatchObject({
      state: {
        values: {
          reason: { reason_text: { type: "plain_text_input", value: "" } },
          window: { window_select: { type: "static_select", selected_option: { value: "30d" } } },
        },
      },
    });
    expect(fx.server.workspace.view(viewId)?.open).toBe(true);
  });

  it("submitView with a value for an input the modal does not have throws", async () => {
    const opened = await fx.client.views.open({
      trigger_id: fx.server.workspace.triggers.issue("U0BOB"),
      view: retrainModal,
    });
    await expect(driver.submitView("U0BOB", opened.view?.id ?? "", { nope: "x" })).rejects.toThrow(
      /no input/,
    );
  });

  it("a forged signature override reaches the bot and is refused there", async () => {
    const response = await driver.command("U0ALICE", "C0ALERTS", "status", { signature: "v0=forged" });
    expect(response.status).toBe(401);
    expect(bot.received[0]?.headers["x-slack-signature"]).toBe("v0=forged");
    expect(bot.received[0]?.signatureValid).toBe(false);
  });

  it("a timestamp override is signed as given, so only the bot's freshness check can catch it", async () => {
    const stale = Math.floor(Date.now() / 1000) - 600;
    await driver.command("U0ALICE", "C0ALERTS", "status", { timestamp: stale });
    expect(bot.received[0]?.headers["x-slack-request-timestamp"]).toBe(String(stale));
    expect(bot.received[0]?.signatureValid).toBe(true);
  });

  it("rawPost sends exactly the given body and headers", async () => {
    const response = await driver.rawPost("text=hi", { "content-type": "application/x-www-form-urlencoded" });
    expect(response.status).toBe(401);
    expect(bot.received[0]?.rawBody).toBe("text=hi");
    expect(bot.received[0]?.headers["x-slack-signature"]).toBeUndefined();
  });
});
