import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAuditRepository } from "../../src/audit/index.js";
import type { AlertSignal } from "../../src/shared/alert-signal.js";
import { oneIncidentPerFinding } from "../helpers/bot.js";
import { driftFinding } from "../helpers/signals.js";
import {
  buttonIds,
  cardOf,
  eventually,
  type IncidentBot,
  outboxDrained,
  startIncidentBot,
} from "./incidents-bot.js";

let bot: IncidentBot;
beforeAll(async () => {
  // Each test opens its own incident with a finding on a subject of its own.
  bot = await startIncidentBot({ config: oneIncidentPerFinding(), feature: { tickMs: 200 } });
});
afterAll(async () => {
  await bot?.close();
});

const CHANNEL = "fraud-alerts";
let seq = 0;

async function fire(subject: string, over: Partial<AlertSignal> = {}) {
  const [outcome] = await bot.feature.intake.process([driftFinding(subject, over)]);
  if (!outcome?.incidentId) throw new Error("expected an incident");
  return { id: outcome.incidentId, ref: `INC-${outcome.incidentId}` };
}

async function cardFor(ref: string) {
  return eventually(`the card of ${ref}`, () => cardOf(bot, CHANNEL, ref));
}

function blocksText(m: { blocks?: unknown } | undefined): string {
  return JSON.stringify(m?.blocks ?? []);
}

describe("an alert becomes an incident with a card, a thread and buttons (through the sandbox)", () => {
  it("drift → one card with buttons → Acknowledge → fires again into the thread → Resolve with a note through the modal", async () => {
    const subject = `amount_${++seq}`;
    const { id, ref } = await fire(subject);
    const { workspace, driver } = bot.sandbox;

    // Exactly one card, with the buttons, in the model's channel.
    const card = await cardFor(ref);
    expect(workspace.messages(CHANNEL).filter((m) => m.text.startsWith(`${ref} [`))).toHaveLength(1);
    expect(buttonIds(card)).toEqual([
      "incident_acknowledge",
      "incident_take",
      "incident_update",
      "incident_resolve",
      "incident_silence_1h",
      "incident_severity",
    ]);
    expect(blocksText(card)).toContain("Fraud detector");
    expect(blocksText(card)).toContain("PSI &gt;= 0.2");

    // A signed Acknowledge click: the card is updated in place and the timeline has the click.
    const click = await driver.clickButton("U0DANA", card, "incident_acknowledge");
    expect(click.status).toBe(200);
    await eventually("the card to show the acknowledgement", () =>
      blocksText(workspace.message(CHANNEL, card.ts)).includes("Acknowledged by <@U0DANA>"),
    );
    expect(buttonIds(workspace.message(CHANNEL, card.ts))).not.toContain("incident_acknowledge");
    const timeline = await bot.feature.incidents.timeline(id);
    expect(timeline.filter((e) => e.kind === "acknowledged").map((e) => [e.actor, e.via])).toEqual([
      ["U0DANA", "button"],
    ]);

    // The same alert fires again: a reply in the thread, a counter on the card, still one incident.
    const again = await fire(subject, {
      title: `Drift in ${subject}: PSI 0.41`,
      metrics: { psi: 0.41, threshold: 0.2 },
    });
    expect(again.id).toBe(id);
    await eventually("the repeat firing in the thread", () =>
      workspace.thread(CHANNEL, card.ts).some((m) => m.text.includes("Fired again")),
    );
    await eventually("the counter on the card", () =>
      blocksText(workspace.message(CHANNEL, card.ts)).includes("2 times"),
    );
    expect(workspace.messages(CHANNEL).filter((m) => m.text.startsWith(`${ref} [`))).toHaveLength(1);
    const open = await bot.feature.incidents.list({ states: ["open", "acknowledged", "mitigated"] });
    expect(open.filter((i) => i.subject === subject)).toHaveLength(1);

    // Resolve opens a modal asking for the resolution; submitting it resolves the incident.
    const resolveClick = await driver.clickButton(
      "U0OLIVIA",
      workspace.message(CHANNEL, card.ts) ?? card,
      "incident_resolve",
    );
    expect(resolveClick.status).toBe(200);
    const view = await eventually("the resolve modal", () => workspace.views("U0OLIVIA").find((v) => v.open));
    expect(view.view.callback_id).toBe("incident_resolve_modal");
    const submitted = await driver.submitView("U0OLIVIA", view.id, {
      resolution_note: "Rolled back the feature pipeline",
    });
    expect(submitted.status).toBe(200);
    expect(workspace.view(view.id)?.open).toBe(false);

    await eventually("the card to show resolved", () =>
      blocksText(workspace.message(CHANNEL, card.ts)).includes("Resolved by <@U0OLIVIA>"),
    );
    const finalCard = workspace.message(CHANNEL, card.ts);
    expect(buttonIds(finalCard)).toEqual([]);
    expect(blocksText(finalCard)).toContain("Rolled back the feature pipeline");
    const summary = await eventually("the summary in the thread", () =>
      workspace.thread(CHANNEL, card.ts).find((m) => m.text.includes("resolved* by <@U0OLIVIA>")),
    );
    expect(summary.text).toContain("Rolled back the feature pipeline");
    expect(summary.text).toContain("<@U0DANA>: acknowledged");
    expect(summary.text).toContain("<@U0OLIVIA>: resolved");
    expect(summary.text).toContain("2 times");
    expect((await bot.feature.incidents.get(id)).state).toBe("resolved");
  });

  it("an unauthorised click gets an ephemeral refusal, changes nothing, and is logged", async () => {
    const { id, ref } = await fire(`country_${++seq}`);
    const { workspace, driver } = bot.sandbox;
    const card = await cardFor(ref);
    await outboxDrained(bot);
    const editsBefore = workspace.message(CHANNEL, card.ts)?.edits;
    const res = await driver.clickButton("U0GUEST", card, "incident_acknowledge");
    expect(res.status).toBe(200);
    const refusal = await eventually("the refusal", () =>
      workspace.ephemerals("U0GUEST").find((e) => e.text.includes(`acknowledge ${ref}`)),
    );
    expect(refusal.text).toContain("You may not acknowledge");
    expect(refusal.channel).toBe(workspace.channelByName(CHANNEL)?.id);
    await outboxDrained(bot);
    expect(workspace.message(CHANNEL, card.ts)?.edits).toBe(editsBefore);
    expect(workspace.thread(CHANNEL, card.ts)).toHaveLength(1);
    expect((await bot.feature.incidents.get(id)).state).toBe("open");
    const timeline = await bot.feature.incidents.timeline(id);
    expect(timeline.at(-1)).toMatchObject({ kind: "refused", actor: "U0GUEST", via: "button" });
    const [audit] = await createAuditRepository(bot.database.db).recent({ actor: "U0GUEST", limit: 1 });
    expect(audit).toMatchObject({ action: "incident.acknowledge", target: ref, outcome: "refused" });
  });

  it("50 concurrent signed Acknowledge clicks on one incident make exactly one acknowledged event", async () => {
    const { id, ref } = await fire(`channel_${++seq}`);
    const { workspace, driver } = bot.sandbox;
    const card = await cardFor(ref);
    const people = ["U0OLIVIA", "U0OMAR", "U0DANA", "U0DEV", "U0MAYA"];
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        driver.clickButton(people[i % people.length] as string, card, "incident_acknowledge"),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(50).fill(200));
    const timeline = await bot.feature.incidents.timeline(id);
    expect(timeline.filter((e) => e.kind === "acknowledged")).toHaveLength(1);
    expect(timeline.filter((e) => e.kind === "unchanged")).toHaveLength(49);
    await outboxDrained(bot);
    expect(blocksText(workspace.message(CHANNEL, card.ts))).toContain("Acknowledged by");
    const replies = workspace.thread(CHANNEL, card.ts).filter((m) => m.ts !== card.ts);
    expect(replies.filter((m) => m.text.includes("acknowledged"))).toHaveLength(1);
  });

  it("a resolve dialog submitted empty is refused in the dialog, and the incident stays as it was", async () => {
    const { id, ref } = await fire(`txn_${++seq}`);
    const { workspace, driver } = bot.sandbox;
    const card = await cardFor(ref);
    await driver.clickButton("U0DEV", card, "incident_resolve");
    const view = await eventually("the resolve modal", () => workspace.views("U0DEV").find((v) => v.open));
    const res = await driver.submitView("U0DEV", view.id, { resolution_note: "   " });
    expect(res.body).toEqual({ response_action: "errors", errors: { resolution: "Say what fixed it." } });
    expect(workspace.view(view.id)?.open).toBe(true);
    expect((await bot.feature.incidents.get(id)).state).toBe("open");
  });

  it("someone who may not resolve gets no dialog, only a refusal", async () => {
    const { ref } = await fire(`dist_${++seq}`);
    const { workspace, driver } = bot.sandbox;
    const card = await cardFor(ref);
    await driver.clickButton("U0GUEST", card, "incident_resolve");
    await eventually("the refusal", () =>
      workspace.ephemerals("U0GUEST").find((e) => e.text.includes(`resolve ${ref}`)),
    );
    expect(workspace.views("U0GUEST")).toEqual([]);
  });

  it("Silence 1h mutes the incident: the card says until when, the thread says who, and repeats stay quiet", async () => {
    const subject = `age_${++seq}`;
    const { id, ref } = await fire(subject);
    const { workspace, driver } = bot.sandbox;
    const card = await cardFor(ref);
    await driver.clickButton("U0OMAR", card, "incident_silence_1h");
    await eventually("the silenced card", () =>
      blocksText(workspace.message(CHANNEL, card.ts)).includes(":zzz: Silenced until"),
    );
    expect(buttonIds(workspace.message(CHANNEL, card.ts))).not.toContain("incident_silence_1h");
    await eventually("the silence note", () =>
      workspace.thread(CHANNEL, card.ts).some((m) => m.text.includes("<@U0OMAR> silenced this alert")),
    );
    await fire(subject);
    await eventually("the counter", () =>
      blocksText(workspace.message(CHANNEL, card.ts)).includes("2 times"),
    );
    await outboxDrained(bot);
    expect(workspace.thread(CHANNEL, card.ts).some((m) => m.text.includes("Fired again"))).toBe(false);
    expect((await bot.feature.incidents.timeline(id)).map((e) => e.kind)).toContain("silenced");
  });
});
