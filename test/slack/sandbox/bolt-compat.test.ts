import type { AddressInfo } from "node:net";
import { App, HTTPReceiver, LogLevel } from "@slack/bolt";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { SandboxDriver } from "../../../src/slack/sandbox/index.js";
import { type Fixture, startFixture, TOKEN } from "./sandbox-fixture.js";

const SECRET = "bolt-compat-signing-secret";

describe("a real Bolt app against the sandbox", () => {
  let fx: Fixture;
  let app: App;
  let driver: SandboxDriver;
  let submitted: unknown;

  beforeEach(async () => {
    fx = await startFixture();
    submitted = undefined;
    app = new App({
      token: TOKEN,
      receiver: new HTTPReceiver({ signingSecret: SECRET, logLevel: LogLevel.ERROR }),
      clientOptions: { slackApiUrl: fx.server.apiUrl, retryConfig: { retries: 0 } },
      logLevel: LogLevel.ERROR,
    });
    app.command("/mlops", async ({ command, ack, client }) => {
      await ack({ text: `Looking up ${command.text}…` });
      await client.chat.postMessage({
        channel: command.channel_id,
        text: `${command.text} drifted`,
        blocks: [
          { type: "section", text: { type: "mrkdwn", text: `*${command.text}* drifted` } },
          {
            type: "actions",
            elements: [
              {
                type: "button",
                action_id: "retrain",
                value: command.text,
                text: { type: "plain_text", text: "Retrain" },
              },
            ],
          },
        ],
      });
    });
    app.action("retrain", async ({ ack, body, client, respond }) => {
      await ack();
      if (body.type !== "block_actions") return;
      await client.views.open({
        trigger_id: body.trigger_id,
        view: {
          type: "modal",
          callback_id: "retrain",
          private_metadata: (body.actions[0] as { value?: string }).value ?? "",
          title: { type: "plain_text", text: "Retrain" },
          submit: { type: "plain_text", text: "Queue" },
          blocks: [
            {
              type: "input",
              block_id: "reason",
              label: { type: "plain_text", text: "Why" },
              element: { type: "plain_text_input", action_id: "text" },
            },
          ],
        },
      });
      await respond({ replace_original: true, text: "Retrain requested" });
    });
    app.view("retrain", async ({ ack, view }) => {
      submitted = { metadata: view.private_metadata, values: view.state.values };
      await ack();
    });
    const server = (await app.start({ port: 0, host: "127.0.0.1" })) as { address(): AddressInfo };
    driver = new SandboxDriver({
      botUrl: `http://127.0.0.1:${server.address().port}/slack/events`,
      signingSecret: SECRET,
      workspace: fx.server.workspace,
      sandboxBaseUrl: fx.server.url,
    });
  });

  afterEach(async () => {
    await app.stop();
    await fx.server.close();
  });

  it("a command, a button click and a modal submission all reach Bolt handlers and land in the workspace", async () => {
    const ws = fx.server.workspace;
    const command = await driver.command("U0ALICE", "#ml-alerts", "churn-v3");
    expect(command.status).toBe(200);
    expect(ws.ephemerals("U0ALICE")).toMatchObject([{ text: "Looking up churn-v3…", source: "ack" }]);
    const message = await vi.waitFor(() => {
      const found = ws.findMessage((m) => m.text === "churn-v3 drifted");
      if (!found) throw new Error("not yet");
      return found;
    });

    await driver.clickButton("U0ALICE", message, "retrain");
    const view = await vi.waitFor(() => {
      const [opened] = ws.views("U0ALICE");
      if (!opened || ws.message("C0ALERTS", message.ts)?.text !== "Retrain requested")
        throw new Error("not yet");
      return opened;
    });

    const submit = await driver.submitView("U0ALICE", view.id, { text: "PSI 0.4" });
    expect(submit.status).toBe(200);
    expect(submitted).toEqual({
      metadata: "churn-v3",
      values: { reason: { text: { type: "plain_text_input", value: "PSI 0.4" } } },
    });
    expect(ws.view(view.id)?.open).toBe(false);
    expect(ws.requests("auth.test").length).toBeGreaterThan(0);
  });
});
