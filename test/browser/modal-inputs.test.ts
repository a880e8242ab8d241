import Fastify, { type FastifyInstance } from "fastify";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerSandbox, SandboxDriver, SandboxWorkspace } from "../../src/slack/sandbox/index.js";
import { sandboxPageRoutes } from "../../src/slack/sandbox/web/routes.js";
import { type FakeBot, startFakeBot } from "../slack/sandbox/fake-bot.js";
import { SEED, TOKEN } from "../slack/sandbox/sandbox-fixture.js";
import { launchBrowser, newPage, openSandbox, poll } from "./browser.js";

/**
 * The page against a bare sandbox and a fake bot that records what arrives: shows exactly which
 * `view_submission` a dialog with a select, a radio group and text inputs sends.
 */
let app: FastifyInstance;
let fake: FakeBot;
let workspace: SandboxWorkspace;
let browser: Browser;
let url: string;

beforeAll(async () => {
  const secret = "modal-inputs-secret";
  [fake, browser] = await Promise.all([startFakeBot(secret), launchBrowser()]);
  workspace = new SandboxWorkspace(SEED);
  app = Fastify({ logger: false });
  let driver: SandboxDriver | undefined;
  registerSandbox(app, { workspace, token: TOKEN, prefix: "/sandbox" });
  app.register(
    sandboxPageRoutes({
      workspace,
      driver: () => driver as SandboxDriver,
      defaultChannel: "ml-alerts",
    }),
    { prefix: "/sandbox" },
  );
  await app.listen({ host: "127.0.0.1", port: 0 });
  const address = app.server.address();
  url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  driver = new SandboxDriver({
    botUrl: fake.url,
    signingSecret: secret,
    workspace,
    sandboxBaseUrl: `${url}/sandbox/`,
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
  await fake?.close();
});

const option = (value: string, text: string) => ({ text: { type: "plain_text", text }, value });

describe("a modal's inputs in the browser", () => {
  it("sends the chosen option, radio and text as view_submission state; the bot's errors show; views.update re-renders", async () => {
    const page = await newPage(browser);
    await openSandbox(page, url, "alice");
    const view = workspace.openView("U0ALICE", {
      type: "modal",
      callback_id: "postmortem",
      title: { type: "plain_text", text: "Postmortem" },
      submit: { type: "plain_text", text: "Save" },
      blocks: [
        {
          type: "input",
          block_id: "cause",
          label: { type: "plain_text", text: "Cause" },
          element: {
            type: "static_select",
            action_id: "cause_pick",
            options: [option("data", "Bad data"), option("code", "A code change")],
          },
        },
        {
          type: "input",
          block_id: "impact",
          label: { type: "plain_text", text: "Impact" },
          element: {
            type: "radio_buttons",
            action_id: "impact_pick",
            initial_option: option("low", "Low"),
            options: [option("low", "Low"), option("high", "High")],
          },
        },
        {
          type: "input",
          block_id: "summary",
          label: { type: "plain_text", text: "Summary" },
          element: { type: "plain_text_input", action_id: "summary_text" },
        },
      ],
    });
    const dialog = page.locator("#modal-layer form.modal");
    await dialog.waitFor();
    expect(await dialog.locator(".modal-title").textContent()).toBe("Postmortem");

    fake.reply = () => ({ body: { response_action: "errors", errors: { summary: "Too short" } } });
    await dialog.locator('select[name="cause_pick"]').selectOption("code");
    await dialog.locator('input[name="impact_pick"][value="high"]').check();
    await dialog.locator('input[name="summary_text"]').fill("x");
    await dialog.locator(".modal-submit").click();
    await poll(() => dialog.locator('[data-error-for="summary"]').textContent()).toBe("Too short");
    const sent = fake.received.at(-1)?.body as {
      type: string;
      view: { id: string; state: { values: Record<string, Record<string, Record<string, unknown>>> } };
    };
    expect(sent.type).toBe("view_submission");
    expect(sent.view.id).toBe(view.id);
    expect(sent.view.state.values.cause?.cause_pick).toMatchObject({
      type: "static_select",
      selected_option: { value: "code" },
    });
    expect(sent.view.state.values.impact?.impact_pick).toMatchObject({ selected_option: { value: "high" } });
    expect(sent.view.state.values.summary?.summary_text).toEqual({ type: "plain_text_input", value: "x" });
    expect(fake.received.at(-1)?.signatureValid).toBe(true);

    workspace.updateView(view.id, {
      type: "modal",
      title: { type: "plain_text", text: "Thanks" },
      blocks: [{ type: "section", text: { type: "mrkdwn", text: "*Saved*" } }],
    });
    await poll(() => dialog.locator(".modal-title").textContent()).toBe("Thanks");
    fake.reply = () => ({});
    await dialog.locator(".modal-close").click();
    await poll(() => page.locator("#modal-layer").isHidden()).toBe(true);
    expect(workspace.view(view.id)?.open).toBe(false);
    expect(page.errors).toEqual([]);
    await page.close();
  });
});
