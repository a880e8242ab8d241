import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAuditRepository } from "../../src/audit/index.js";
import type { MlopsConfig, ModelConfig } from "../../src/config/index.js";
import type { AlertSignal } from "../../src/shared/alert-signal.js";
import type { SandboxMessage } from "../../src/slack/sandbox/index.js";
import { skippingClock } from "../escalation/helpers.js";
import { demoConfig, oneIncidentPerFinding } from "../helpers/bot.js";
import { driftFinding } from "../helpers/signals.js";
import {
  buttonIds,
  cardOf,
  eventually,
  type IncidentBot,
  outboxDrained,
  startIncidentBot,
} from "./incidents-bot.js";

const CHANNEL = "fraud-alerts";
const STAKEHOLDERS = "fraud-status";
const MIN = 60_000;
const clock = skippingClock();
let bot: IncidentBot;

/** The demo config with a stakeholder channel for the fraud detector (seeded into the sandbox). */
function stakeholderConfig(): MlopsConfig {
  const config = demoConfig();
  const [fraud, ...rest] = config.models as [ModelConfig, ...ModelConfig[]];
  return {
    ...config,
    models: [{ ...fraud, stakeholder_channel: STAKEHOLDERS }, ...rest],
    sandbox: { ...config.sandbox, channels: [...config.sandbox.channels, STAKEHOLDERS] },
  };
}

beforeAll(async () => {
  // The ticker is driven by hand (tick()) against the injected clock, never by its timer.
  // Each test opens its own incident with a finding on a subject of its own.
  bot = await startIncidentBot({
    config: oneIncidentPerFinding(stakeholderConfig()),
    clock,
    feature: { tickMs: 3_600_000 },
  });
});
afterAll(async () => {
  await bot?.close();
});

let seq = 0;
async function open(over: Partial<AlertSignal> = {}) {
  const [outcome] = await bot.feature.intake.process([
    driftFinding(`owner_${++seq}`, { observedAt: clock.now(), ...over }),
  ]);
  if (!outcome?.incidentId) throw new Error("expected an incident");
  const ref = `INC-${outcome.incidentId}`;
  const card = await eventually(`the card of ${ref}`, () => cardOf(bot, CHANNEL, ref));
  return { id: outcome.incidentId, ref, card };
}

/** The card as it is now in the channel. */
function current(card: SandboxMessage): SandboxMessage {
  return bot.sandbox.workspace.message(CHANNEL, card.ts) ?? card;
}

/** The text of a field (`*Owner*\n…`) of a card. */
function field(card: SandboxMessage, name: string): string | undefined {
  for (const block of current(card).blocks ?? []) {
    const fields = (block as { fields?: { text: string }[] }).fields ?? [];
    const found = fields.find((f) => f.text.startsWith(`*${name}*\n`));
    if (found) return found.text.slice(name.length + 3);
  }
  return undefined;
}

function replies(card: SandboxMessage): string[] {
  return bot.sandbox.workspace
    .thread(CHANNEL, card.ts)
    .filter((m) => m.ts !== card.ts)
    .map((m) => `${m.text}\n${JSON.stringify(m.blocks ?? [])}`);
}

async function run(user: string, text: string): Promise<string> {
  const res = await bot.sandbox.driver.command(user, CHANNEL, text);
  expect(res.status).toBe(200);
  const body = res.body as { text: string; response_type: string };
  expect(body.response_type).toBe("ephemeral");
  return body.text;
}

/**
 * An incident's timeline as commands write it: without `posted` events and without each event's
 * delivery state, which the outbox moves on its own (sending → sent) while a test looks.
 */
async function timeline(id: number) {
  return (await bot.feature.incidents.timeline(id))
    .filter((e) => e.kind !== "posted")
    .map(({ delivery: _, ...e }) => e);
}

/** The newest audit row of an incident action by `actor` (command rows, written by the router, are skipped). */
async function lastAudit(actor: string) {
  const rows = await createAuditRepository(bot.database.db).recent({ actor, limit: 20 });
  return rows.find((r) => r.action.startsWith("incident."));
}

// First in the file, while no other incident has an owner: each tick reminds every overdue owner
// into the one channel, whose pace (a write a second) would otherwise hold these notes back.
describe("update reminders at the severity's rhythm (injected clock, ticker by hand)", () => {
  /** Notes reach the channel at its pace of a write a second. */
  const PACED = 30_000;

  async function reminders(id: number) {
    return (await timeline(id)).filter((e) => e.kind === "update_reminded");
  }

  it("a critical incident's owner is reminded after 30m without an update, once per rhythm, never twice for one deadline", async () => {
    const { driver } = bot.sandbox;
    const critical = await open({ severity: "critical" });
    const warning = await open({ severity: "warning" });
    const unowned = await open({ severity: "critical" });
    await driver.clickButton("U0OLIVIA", critical.card, "incident_take");
    await driver.clickButton("U0DEV", warning.card, "incident_take");
    await eventually("both owners", async () => {
      const [c, w] = [
        await bot.feature.incidents.get(critical.id),
        await bot.feature.incidents.get(warning.id),
      ];
      return c.assignee === "U0OLIVIA" && w.assignee === "U0DEV";
    });

    clock.advance(29 * MIN);
    await bot.feature.ticker.tick();
    expect(await reminders(critical.id)).toEqual([]);

    clock.advance(2 * MIN);
    // Two replicas ticking at once: the row lock (SKIP LOCKED) lets one of them remind.
    await Promise.all([bot.feature.ticker.tick(), bot.feature.ticker.tick()]);
    await bot.feature.ticker.tick();
    expect(await reminders(critical.id)).toHaveLength(1);
    expect(await reminders(warning.id)).toEqual([]);
    expect(await reminders(unowned.id)).toEqual([]);
    const reminder = await eventually(
      "the reminder in the thread",
      () => replies(critical.card).find((r) => r.includes("has had no status update")),
      PACED,
    );
    expect(reminder).toContain(
      `<@U0OLIVIA>, ${critical.ref} has had no status update yet; critical incidents get one every 30m.`,
    );
    expect(reminder).toContain(`/mlops update ${critical.ref}`);

    // An update restarts the rhythm: no reminder 25 minutes later, one after 30.
    clock.advance(5 * MIN);
    await run("U0OLIVIA", `update ${critical.ref} rolled back the feature pipeline`);
    clock.advance(25 * MIN);
    await bot.feature.ticker.tick();
    expect(await reminders(critical.id)).toHaveLength(1);
    clock.advance(6 * MIN);
    await bot.feature.ticker.tick();
    const [, second] = await reminders(critical.id);
    expect(second).toMatchObject({ actor: "system", via: "schedule", detail: { owner: "U0OLIVIA" } });
    await eventually(
      "the second reminder, saying since when",
      () => replies(critical.card).some((r) => r.includes("has had no status update since")),
      PACED,
    );

    // The warning incident's 4h rhythm: reminded once it is due.
    clock.advance(4 * 60 * MIN);
    await bot.feature.ticker.tick();
    expect(await reminders(warning.id)).toHaveLength(1);
    await eventually(
      "the warning reminder",
      () => replies(warning.card).some((r) => r.includes("warning incidents get one every 4h")),
      PACED,
    );

    // Resolved incidents are never reminded.
    await run("U0OLIVIA", `resolve ${critical.ref} rolled back`);
    const count = (await reminders(critical.id)).length;
    clock.advance(2 * 60 * MIN);
    await bot.feature.ticker.tick();
    expect(await reminders(critical.id)).toHaveLength(count);
    expect(await reminders(unowned.id)).toEqual([]);
  }, 120_000);
});

describe("one owner per incident (signed Slack payloads through the sandbox)", () => {
  it("Take it makes the clicker the owner: the card shows them, the thread says so, timeline and audit record it", async () => {
    const { workspace, driver } = bot.sandbox;
    const { id, ref, card } = await open();
    expect(field(card, "Owner")).toBe("nobody yet");
    expect(buttonIds(card)).toContain("incident_take");

    expect((await driver.clickButton("U0OLIVIA", card, "incident_take")).status).toBe(200);
    await eventually("the card to show the owner", () => field(card, "Owner") === "<@U0OLIVIA>");
    await eventually("the thread note", () =>
      replies(card).some((r) => r.includes("<@U0OLIVIA> took it: they own this incident now.")),
    );
    expect((await bot.feature.incidents.get(id)).assignee).toBe("U0OLIVIA");
    // Taking it does not acknowledge it: the state is untouched.
    expect(field(card, "State")).toContain("Open");
    expect(await lastAudit("U0OLIVIA")).toMatchObject({
      action: "incident.take",
      target: ref,
      outcome: "ok",
    });

    // Taking it again changes nothing and says so.
    await driver.clickButton("U0OLIVIA", current(card), "incident_take");
    await eventually("the already-own note", () =>
      workspace.ephemerals("U0OLIVIA").find((e) => e.text === `You already own ${ref}.`),
    );
    // Someone else allowed to take it takes over.
    await driver.clickButton("U0DEV", current(card), "incident_take");
    await eventually("the new owner on the card", () => field(card, "Owner") === "<@U0DEV>");
    expect((await timeline(id)).map((e) => [e.kind, e.actor, e.via, e.detail])).toEqual([
      ["opened", "monitor", "alert", expect.anything()],
      ["owner_changed", "U0OLIVIA", "button", { from: null, to: "U0OLIVIA", how: "took" }],
      ["unchanged", "U0OLIVIA", "button", { action: "take", owner: "U0OLIVIA" }],
      ["owner_changed", "U0DEV", "button", { from: "U0OLIVIA", to: "U0DEV", how: "took" }],
    ]);
  });

  it("acknowledging an unowned incident makes the acknowledger the owner; one with an owner keeps it", async () => {
    const { driver } = bot.sandbox;
    const a = await open();
    await driver.clickButton("U0DANA", a.card, "incident_acknowledge");
    await eventually("the acknowledger as owner", () => field(a.card, "Owner") === "<@U0DANA>");
    expect(field(a.card, "State")).toContain("Acknowledged by <@U0DANA>");
    expect((await timeline(a.id)).map((e) => [e.kind, e.detail.how ?? null])).toEqual([
      ["opened", null],
      ["acknowledged", null],
      ["owner_changed", "acknowledged"],
    ]);

    const b = await open();
    await driver.clickButton("U0OLIVIA", b.card, "incident_take");
    await eventually("the owner", () => field(b.card, "Owner") === "<@U0OLIVIA>");
    expect(await run("U0DANA", `ack ${b.ref}`)).toBe(`You acknowledged ${b.ref}.`);
    await eventually("the acknowledgement on the card", () =>
      field(b.card, "State")?.includes("Acknowledged by <@U0DANA>"),
    );
    expect(field(b.card, "Owner")).toBe("<@U0OLIVIA>");
    expect((await bot.feature.incidents.get(b.id)).assignee).toBe("U0OLIVIA");
  });

  it("/mlops assign hands it over: the new owner gets a DM with the summary, the card and thread show it", async () => {
    const { workspace } = bot.sandbox;
    const { id, ref, card } = await open();
    expect(await run("U0OLIVIA", `assign ${ref} <@U0DANA|dana>`)).toBe(
      `<@U0DANA> owns ${ref} now; they got a DM with its summary.`,
    );
    await eventually("the card to show the new owner", () => field(card, "Owner") === "<@U0DANA>");
    await eventually("the handover note", () =>
      replies(card).some((r) =>
        r.includes("<@U0OLIVIA> handed this incident to <@U0DANA>, who owns it now."),
      ),
    );
    const dm = await eventually("the DM to the new owner", () => {
      const { channel } = workspace.openDm(["U0DANA"]);
      return workspace.messages(channel.id).find((m) => m.text.includes(`made you the owner of ${ref}`));
    });
    const dmText = JSON.stringify(dm.blocks);
    expect(dmText).toContain("<@U0OLIVIA> made you the owner of *");
    expect(dmText).toContain(`/mlops update ${ref}`);
    expect(dmText).toContain("Drift in owner_"); // the incident's title and what fired
    expect(dmText).toContain("PSI &gt;= 0.2");
    expect(buttonIds(dm)).toEqual([]);
    expect((await timeline(id)).at(-1)).toMatchObject({
      kind: "owner_changed",
      actor: "U0OLIVIA",
      via: "command",
      detail: { from: null, to: "U0DANA", how: "assigned" },
    });
    expect(await lastAudit("U0OLIVIA")).toMatchObject({
      action: "incident.assign",
      target: ref,
      outcome: "ok",
      detail: { from: null, to: "U0DANA" },
    });
    // A bare user id works too, and assigning the owner again changes nothing.
    expect(await run("U0DANA", `assign ${ref} U0DEV`)).toContain(`<@U0DEV> owns ${ref} now`);
    expect(await run("U0DANA", `assign ${ref} <@U0DEV>`)).toBe(`<@U0DEV> already owns ${ref}.`);
    // Assigning it to oneself is taking it.
    expect(await run("U0OMAR", `assign ${ref} <@U0OMAR|omar>`)).toBe(`You own ${ref} now.`);
    expect((await timeline(id)).at(-1)).toMatchObject({
      kind: "owner_changed",
      detail: { from: "U0DEV", to: "U0OMAR", how: "took" },
    });
  });

  it("people who may not acknowledge may not take, assign or update: told who may, nothing changes, the attempt is logged", async () => {
    const { workspace, driver } = bot.sandbox;
    const { id, ref, card } = await open();
    await outboxDrained(bot);
    const edits = current(card).edits;

    await driver.clickButton("U0GUEST", card, "incident_take");
    const refusal = await eventually("the refusal", () =>
      workspace.ephemerals("U0GUEST").find((e) => e.text.includes(`take ${ref}`)),
    );
    expect(refusal.text).toMatch(
      new RegExp(`^You may not take ${ref}: that takes .+\\. Nothing was changed\\.$`),
    );
    expect(await run("U0GUEST", `assign ${ref} <@U0GUEST>`)).toMatch(`You may not assign ${ref}: that takes`);
    expect(await run("U0GUEST", `update ${ref} it is fine`)).toMatch(`You may not update ${ref}: that takes`);
    await driver.clickButton("U0GUEST", card, "incident_update");
    await eventually("the update refusal", () =>
      workspace.ephemerals("U0GUEST").find((e) => e.text.startsWith(`You may not update ${ref}`)),
    );
    expect(workspace.views("U0GUEST")).toEqual([]);

    await outboxDrained(bot);
    expect(current(card).edits).toBe(edits);
    expect(replies(card)).toEqual([]);
    expect(workspace.messages(STAKEHOLDERS).filter((m) => m.text.includes(ref))).toEqual([]);
    const incident = await bot.feature.incidents.get(id);
    expect(incident).toMatchObject({ assignee: null, lastUpdateAt: null, updateDueAt: null });
    expect((await timeline(id)).map((e) => [e.kind, e.actor, e.via, e.detail.action])).toEqual([
      ["opened", "monitor", "alert", undefined],
      ["refused", "U0GUEST", "button", "take"],
      ["refused", "U0GUEST", "command", "assign"],
      ["refused", "U0GUEST", "command", "update"],
      ["refused", "U0GUEST", "button", "update"],
    ]);
    const audit = (
      await createAuditRepository(bot.database.db).recent({ actor: "U0GUEST", limit: 20 })
    ).filter((a) => a.action.startsWith("incident."));
    expect(audit.map((a) => [a.action, a.outcome]).sort()).toEqual(
      [
        ["incident.assign", "refused"],
        ["incident.take", "refused"],
        ["incident.update", "refused"],
        ["incident.update", "refused"],
      ].sort(),
    );
  });

  it("bad input gets a clear answer and writes nothing", async () => {
    const { id, ref, card } = await open();
    const before = await timeline(id);
    expect(await run("U0OLIVIA", `assign ${ref} <@U0GUEST|guest>`)).toBe(
      `<@U0GUEST> cannot own ${ref}: its owner must be someone who may acknowledge it. Nothing was changed.`,
    );
    expect(await run("U0OLIVIA", `assign ${ref} @dana`)).toContain(
      "`@dana` is not one person. Mention them, picking the name from Slack's list.",
    );
    expect(await run("U0OLIVIA", `assign ${ref}`)).toContain("Say who should own it.");
    expect(await run("U0OLIVIA", "assign tomorrow <@U0DANA>")).toContain(
      "`tomorrow` is not an incident reference",
    );
    expect(await run("U0OLIVIA", "assign INC-999999 <@U0DANA>")).toBe("There is no incident INC-999999.");
    expect(await run("U0OLIVIA", `update ${ref}`)).toContain("Say what is known.");
    expect(await run("U0OLIVIA", `update ${ref} next: nothing yet`)).toContain("Say what is known.");
    expect(await timeline(id)).toEqual(before);
    expect((await bot.feature.incidents.get(id)).assignee).toBeNull();

    // A resolved incident takes no owner and no update; nothing is written.
    await run("U0OLIVIA", `resolve ${ref} a false alarm`);
    const resolved = await timeline(id);
    expect(await run("U0OLIVIA", `update ${ref} still fine`)).toBe(
      `${ref} is resolved; it cannot get status updates any more. Nothing was changed.`,
    );
    expect(await run("U0OLIVIA", `assign ${ref} <@U0DANA>`)).toBe(
      `${ref} is resolved; it cannot be assigned any more. Nothing was changed.`,
    );
    expect(await timeline(id)).toEqual(resolved);
    await eventually("the resolved card without buttons", () => buttonIds(current(card)).length === 0);
  });
});

describe("status updates", () => {
  it("/mlops update posts status, what is known and the next step in the thread and the stakeholder channel", async () => {
    const { workspace } = bot.sandbox;
    const { id, ref, card } = await open();
    await run("U0OLIVIA", `assign ${ref} <@U0DANA>`);
    expect(
      await run("U0DANA", `update ${ref} The ETL job dropped the amount column. next: rerun it at 14:00`),
    ).toBe(`Your update on ${ref} is posted in its thread and #${STAKEHOLDERS}.`);
    const update = await eventually("the update in the thread", () =>
      replies(card).find((r) => r.includes("*Status update* from <@U0DANA>")),
    );
    expect(update).toContain("*Status:* Open · owner <@U0DANA>");
    expect(update).toContain("*What we know:* The ETL job dropped the amount column.");
    expect(update).toContain("*Next step:* rerun it at 14:00");
    const announced = await eventually("the update in the stakeholder channel", () =>
      workspace.messages(STAKEHOLDERS).find((m) => m.text.includes(ref)),
    );
    expect(announced.thread_ts).toBeUndefined();
    expect(announced.text).toContain(`*Status update* on *${ref}* · Drift in owner_`);
    expect(announced.text).toContain("(`fraud-detector`) from <@U0DANA>");
    expect(announced.text).toContain("*What we know:* The ETL job dropped the amount column.");
    await eventually("the card to show the update", () =>
      JSON.stringify(current(card).blocks).includes(":memo: Last status update"),
    );
    expect((await timeline(id)).at(-1)).toMatchObject({
      kind: "status_update",
      actor: "U0DANA",
      via: "command",
      detail: {
        state: "open",
        known: "The ETL job dropped the amount column.",
        next: "rerun it at 14:00",
        stakeholder_channel: STAKEHOLDERS,
      },
    });
    expect(await lastAudit("U0DANA")).toMatchObject({
      action: "incident.update",
      target: ref,
      outcome: "ok",
    });
  });

  it("the Update button opens a dialog; an empty one is refused in the dialog; a filled one is posted", async () => {
    const { workspace, driver } = bot.sandbox;
    const { id, card } = await open();
    expect((await driver.clickButton("U0OMAR", card, "incident_update")).status).toBe(200);
    const view = await eventually("the update dialog", () => workspace.views("U0OMAR").find((v) => v.open));
    expect(view.view.callback_id).toBe("incident_update_modal");
    const empty = await driver.submitView("U0OMAR", view.id, { update_known_text: "  " });
    expect(empty.body).toEqual({
      response_action: "errors",
      errors: { update_known: "Say what is known so far." },
    });
    expect(workspace.view(view.id)?.open).toBe(true);
    const done = await driver.submitView("U0OMAR", view.id, {
      update_known_text: "Only card-not-present traffic drifts.",
      update_next_text: "Ask payments about the new checkout",
    });
    expect(done.status).toBe(200);
    expect(workspace.view(view.id)?.open).toBe(false);
    const update = await eventually("the update in the thread", () =>
      replies(card).find((r) => r.includes("*Status update* from <@U0OMAR>")),
    );
    expect(update).toContain("*Status:* Open · no owner yet");
    expect(update).toContain("*Next step:* Ask payments about the new checkout");
    expect((await timeline(id)).at(-1)).toMatchObject({
      kind: "status_update",
      actor: "U0OMAR",
      via: "modal",
    });
  });
});
