import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COMMAND_WORKING_TEXT } from "../../src/slack/commands/types.js";
import type { SandboxSocketMode } from "../../src/slack/sandbox/index.js";
import { oneIncidentPerFinding } from "../helpers/bot.js";
import { driftFinding } from "../helpers/signals.js";
import { buttonIds, cardOf, eventually, type IncidentBot, startIncidentBot } from "./incidents-bot.js";

// The incident flow of incidents.test.ts, with the bot reaching the sandbox over Socket Mode
// (MLOPS_SANDBOX_SOCKET=1) instead of signed HTTP: every command, click and submission is an
// envelope acknowledged by envelope_id, and a reconnect in the middle loses nothing.

let bot: IncidentBot;
let socket: SandboxSocketMode;
beforeAll(async () => {
  bot = await startIncidentBot({
    config: oneIncidentPerFinding(),
    feature: { tickMs: 200 },
    env: { MLOPS_SANDBOX_SOCKET: "1" },
  });
  socket = bot.sandbox.socket as SandboxSocketMode;
});
afterAll(async () => {
  await bot?.close();
});

const CHANNEL = "fraud-alerts";
let seq = 0;

async function fire(subject: string) {
  const [outcome] = await bot.feature.intake.process([driftFinding(subject)]);
  if (!outcome?.incidentId) throw new Error("expected an incident");
  return { id: outcome.incidentId, ref: `INC-${outcome.incidentId}` };
}

function blocksText(m: { blocks?: unknown } | undefined): string {
  return JSON.stringify(m?.blocks ?? []);
}

/** The ack the sandbox received for an envelope the driver sent; exactly one. */
function ackOf(envelopeId: string | undefined) {
  const acks = socket.acks.filter((a) => a.envelopeId === envelopeId);
  expect(acks).toHaveLength(1);
  return acks[0];
}

describe("the bot over Socket Mode against the sandbox", () => {
  it("connects with apps.connections.open and the app token, and serves no HTTP Slack endpoint", async () => {
    expect(socket.connections).toBe(1);
    const opens = bot.sandbox.workspace.requests("apps.connections.open");
    expect(opens.map((r) => (r.response as { ok: boolean }).ok)).toEqual([true]);
    const http = await bot.http.inject({ method: "POST", url: "/slack/events", payload: "" });
    expect(http.statusCode).toBe(404);
  });

  it("a slash command, a button click and a modal submission, each acknowledged by envelope_id within 3 s", async () => {
    const { id, ref } = await fire(`amount_${++seq}`);
    const { workspace, driver } = bot.sandbox;
    const card = await eventually("the card", () => cardOf(bot, CHANNEL, ref));

    const channel = workspace.requireChannel(CHANNEL).id;
    const command = await driver.command("U0DANA", channel, `incident ${ref}`);
    expect(command.envelopeId).toMatch(/^sbx-/);
    expect(ackOf(command.envelopeId)?.payload).toEqual(command.body);
    expect(JSON.stringify(command.body)).toContain(ref);

    const click = await driver.clickButton("U0DANA", card, "incident_acknowledge");
    expect(ackOf(click.envelopeId)?.type).toBe("interactive");
    await eventually("the card to show the acknowledgement", () =>
      blocksText(workspace.message(CHANNEL, card.ts)).includes("Acknowledged by <@U0DANA>"),
    );

    await driver.clickButton("U0OLIVIA", workspace.message(CHANNEL, card.ts) ?? card, "incident_resolve");
    const view = await eventually("the resolve modal", () => workspace.views("U0OLIVIA").find((v) => v.open));
    // The modal's validation error travels back in the ack's payload, as over HTTP in the body.
    const empty = await driver.submitView("U0OLIVIA", view.id, { resolution_note: "  " });
    expect(ackOf(empty.envelopeId)?.payload).toEqual({
      response_action: "errors",
      errors: { resolution: "Say what fixed it." },
    });
    expect(workspace.view(view.id)?.open).toBe(true);
    const submitted = await driver.submitView("U0OLIVIA", view.id, { resolution_note: "Rolled back" });
    expect(ackOf(submitted.envelopeId)?.payload).toBeUndefined();
    expect(workspace.view(view.id)?.open).toBe(false);
    await eventually("the card to show resolved", () =>
      blocksText(workspace.message(CHANNEL, card.ts)).includes("Resolved by <@U0OLIVIA>"),
    );
    expect(buttonIds(workspace.message(CHANNEL, card.ts))).toEqual([]);
    expect((await bot.feature.incidents.get(id)).state).toBe("resolved");

    for (const a of socket.acks) expect(a.ackedAfterMs).toBeLessThan(3_000);
    expect(socket.deliveries.every((d) => d.attempt === 1)).toBe(true);
    expect(socket.unacknowledged).toBe(0);
  });

  it("a click sent while the bot reconnects after a disconnect arrives on the new connection, once", async () => {
    const { id, ref } = await fire(`country_${++seq}`);
    const { workspace, driver } = bot.sandbox;
    const card = await eventually("the card", () => cardOf(bot, CHANNEL, ref));
    const opened = socket.opened;

    expect(socket.disconnect("warning")).toBe(1);
    const click = await driver.clickButton("U0DANA", card, "incident_acknowledge");
    expect(ackOf(click.envelopeId)?.connection).toBe(opened + 1);
    expect(bot.sandbox.workspace.requests("apps.connections.open")).toHaveLength(opened + 1);
    await eventually("the card to show the acknowledgement", () =>
      blocksText(workspace.message(CHANNEL, card.ts)).includes("Acknowledged by <@U0DANA>"),
    );
    const timeline = await bot.feature.incidents.timeline(id);
    expect(timeline.filter((e) => e.kind === "acknowledged").map((e) => [e.actor, e.via])).toEqual([
      ["U0DANA", "button"],
    ]);
  });

  it("the sandbox's act route (the page's and the console's way in) sends its command over the socket", async () => {
    const before = socket.acks.length;
    const res = await bot.http.inject({
      method: "POST",
      url: "/sandbox/act/command",
      payload: { user: "dana", channel: CHANNEL, text: "/mlops whoami" },
    });
    expect(res.statusCode).toBe(200);
    expect(JSON.stringify(res.json().body)).toContain("U0DANA");
    expect(socket.acks.slice(before).map((a) => a.type)).toEqual(["slash_commands"]);
  });

  it("when the server drops the socket, the bot reconnects and the next command works", async () => {
    const opened = socket.opened;
    expect(socket.drop()).toBe(1);
    await socket.waitForConnection(opened + 1);
    expect(bot.sandbox.workspace.requests("apps.connections.open")).toHaveLength(opened + 1);
    const channel = bot.sandbox.workspace.requireChannel(CHANNEL).id;
    const res = await bot.sandbox.driver.command("U0DANA", channel, "help");
    expect(ackOf(res.envelopeId)?.connection).toBe(opened + 1);
    expect(JSON.stringify(res.body)).toContain("/mlops");
    expect(res.body).not.toMatchObject({ text: COMMAND_WORKING_TEXT });
  });
});
