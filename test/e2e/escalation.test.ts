import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAuditRepository } from "../../src/audit/index.js";
import { createEscalationRepository } from "../../src/escalation/index.js";
import { createOutboxRepository } from "../../src/outbox/index.js";
import {
  dmsOf,
  type EscalationBot,
  escalationConfig,
  groupId,
  openIncident,
  skippingClock,
  startEscalationBot,
} from "../escalation/helpers.js";
import { buttonIds, eventually, outboxDrained } from "./incidents-bot.js";

const CHANNEL = "fraud-alerts";
const MIN = 60_000;
const clock = skippingClock();
let bot: EscalationBot;

beforeAll(async () => {
  bot = await startEscalationBot({
    clock,
    config: escalationConfig({
      default: {
        l1: { wait: "5m" },
        l2: { wait: "15m" },
        // L3 is paged once more after 1h unless someone acknowledges: a step an Acknowledge must stop.
        l3: { wait: "1h", repeat: 1 },
      },
    }),
  });
});
afterAll(async () => {
  await bot?.close();
});

function text(m: { text?: string; blocks?: unknown } | undefined): string {
  return `${m?.text ?? ""} ${JSON.stringify(m?.blocks ?? [])}`;
}

async function card(ref: string) {
  return eventually(`the card of ${ref}`, () =>
    bot.sandbox.workspace.messages(CHANNEL).find((m) => m.text.startsWith(`${ref} [`)),
  );
}

function thread(cardTs: string) {
  return bot.sandbox.workspace.thread(CHANNEL, cardTs).slice(1);
}

async function timeline(id: number) {
  return bot.incidents.incidents.timeline(id);
}

describe("escalation through the sandbox: L1 → L2 by hand → L3 by the timer → Acknowledge from a DM", () => {
  it("pages each tier in the thread and by DM with buttons, escalates on time, and stops on an Acknowledge", async () => {
    const { workspace, driver } = bot.sandbox;
    const { id, ref } = await openIncident(bot, clock);
    const posted = await card(ref);
    // The card shows the tier and offers Escalate.
    expect(buttonIds(posted)).toContain("incident_escalate");
    expect(text(posted)).toContain("L1 (@mlops-oncall)");

    // Olivia (L1) escalates from the card.
    const click = await driver.clickButton("U0OLIVIA", posted, "incident_escalate");
    expect(click.status).toBe(200);
    const l2 = groupId(bot, "ds-oncall");
    const mention = await eventually("the L2 mention in the thread", () =>
      thread(posted.ts).find((m) => m.text.includes("L2 page")),
    );
    expect(text(mention)).toContain(`<!subteam^${l2}>`);
    expect(text(mention)).toContain("escalated by <@U0OLIVIA>");
    // Every L2 member has one DM with Acknowledge and Escalate buttons and a link to the thread.
    for (const user of ["U0DANA", "U0DEV"]) {
      const dms = await eventually(`${user}'s page`, () => {
        const list = dmsOf(bot, user);
        return list.length > 0 && list;
      });
      expect(dms).toHaveLength(1);
      expect(buttonIds(dms[0])).toEqual(["escalation_acknowledge", "incident_escalate"]);
      expect(text(dms[0])).toContain(`/archives/`);
      expect(text(dms[0])).toContain(ref);
      expect(text(dms[0])).toContain("Runbook runs");
    }
    expect(dmsOf(bot, "U0MAYA")).toHaveLength(0);
    expect(dmsOf(bot, "U0OMAR")).toHaveLength(0);
    await eventually("the card to show L2", () =>
      text(workspace.message(CHANNEL, posted.ts)).includes("L2 (@ds-oncall)"),
    );

    // Nobody acknowledges within L2's 15 minutes: L3 (the owners) is paged by the timer. (Moving
    // time while a write is in flight would look like a dead sender to the outbox: drain first.)
    await outboxDrained(bot);
    clock.advance(16 * MIN);
    const maya = await eventually("the L3 page to the owner", () => dmsOf(bot, "U0MAYA")[0]);
    expect(buttonIds(maya)).toEqual(["escalation_acknowledge"]);
    expect(text(maya)).toContain("What L2 tried");
    await eventually("the L3 mention in the thread", () =>
      thread(posted.ts).some(
        (m) => m.text.includes("L3 page") && text(m).includes("escalated automatically"),
      ),
    );
    await eventually("the card to show L3", () =>
      text(workspace.message(CHANNEL, posted.ts)).includes("L3 (@fraud-ml-team)"),
    );
    const afterTimer = await timeline(id);
    expect(afterTimer.filter((e) => e.kind === "escalated").map((e) => [e.actor, e.detail.to])).toEqual([
      ["U0OLIVIA", 2],
      ["timer", 3],
    ]);

    // Maya acknowledges from her DM: the incident is acknowledged exactly as from the card.
    const ack = await driver.clickButton("U0MAYA", maya, "escalation_acknowledge");
    expect(ack.status).toBe(200);
    await eventually("the card to show the acknowledgement", () =>
      text(workspace.message(CHANNEL, posted.ts)).includes("Acknowledged by <@U0MAYA>"),
    );
    const acked = await timeline(id);
    expect(acked.filter((e) => e.kind === "acknowledged").map((e) => [e.actor, e.via])).toEqual([
      ["U0MAYA", "button"],
    ]);

    // No further step: past L3's wait nothing is paged again.
    await outboxDrained(bot);
    clock.advance(2 * 60 * MIN);
    await bot.escalation.ticker.tick();
    await outboxDrained(bot);
    expect(dmsOf(bot, "U0MAYA")).toHaveLength(1);
    expect(dmsOf(bot, "U0DANA").map((m) => m.text)).toHaveLength(1);
    const final = await timeline(id);
    expect(final.filter((e) => e.kind === "paged").map((e) => e.detail.tier)).toEqual([2, 3]);
    expect(final.filter((e) => e.kind === "paged").map((e) => e.detail.members)).toEqual([
      ["U0DANA", "U0DEV"],
      ["U0MAYA"],
    ]);
    expect((await createEscalationRepository(bot.database.db).byIncident(id))?.nextAt).toBeNull();
  });

  it("an incident nobody acknowledges escalates L1 → L2 by itself after L1's wait, and not before", async () => {
    const { id, ref } = await openIncident(bot, clock);
    const posted = await card(ref);
    await eventually("the escalation to start", async () =>
      Boolean(await createEscalationRepository(bot.database.db).byIncident(id)),
    );
    await outboxDrained(bot);
    clock.advance(4 * MIN);
    await bot.escalation.ticker.tick();
    expect((await timeline(id)).some((e) => e.kind === "escalated")).toBe(false);
    await outboxDrained(bot);
    clock.advance(2 * MIN);
    await eventually("the timer's escalation to L2", () =>
      thread(posted.ts).some(
        (m) => m.text.includes("L2 page") && text(m).includes("not acknowledged within 5m"),
      ),
    );
    const escalated = (await timeline(id)).filter((e) => e.kind === "escalated");
    expect(escalated.map((e) => [e.actor, e.via, e.detail.from, e.detail.to])).toEqual([
      ["timer", "schedule", 1, 2],
    ]);
  });

  it("20 concurrent Escalate clicks make one tier step, one page, one DM per member", async () => {
    const { id, ref } = await openIncident(bot, clock);
    const posted = await card(ref);
    const before = { dana: dmsOf(bot, "U0DANA").length, dev: dmsOf(bot, "U0DEV").length };
    const users = ["U0OLIVIA", "U0OMAR", "U0DANA", "U0DEV"];
    const clicks = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        bot.sandbox.driver.clickButton(users[i % users.length] as string, posted, "incident_escalate"),
      ),
    );
    expect(clicks.every((c) => c.status === 200)).toBe(true);
    await eventually("the page to go out", async () => (await timeline(id)).some((e) => e.kind === "paged"));
    await outboxDrained(bot);
    const events = await timeline(id);
    expect(events.filter((e) => e.kind === "escalated")).toHaveLength(1);
    expect(events.filter((e) => e.kind === "paged")).toHaveLength(1);
    expect(events.filter((e) => e.kind === "unchanged" && e.detail.action === "escalate")).toHaveLength(19);
    expect((await createEscalationRepository(bot.database.db).byIncident(id))?.tier).toBe(2);
    expect(dmsOf(bot, "U0DANA").length - before.dana).toBe(1);
    expect(dmsOf(bot, "U0DEV").length - before.dev).toBe(1);
    expect(thread(posted.ts).filter((m) => m.text.includes("L2 page"))).toHaveLength(1);
  });

  it("refuses and logs an escalation by someone outside the tiers, and L1 paging L3", async () => {
    const { workspace, driver } = bot.sandbox;
    const { id, ref } = await openIncident(bot, clock);
    const posted = await card(ref);

    // Gus is in no group: refused by the permission, told so, and logged.
    await driver.clickButton("U0GUEST", posted, "incident_escalate");
    await eventually("the refusal for Gus", () =>
      workspace.ephemerals("U0GUEST").some((e) => e.text.includes(`You may not escalate ${ref}`)),
    );
    // Dana (L2) escalates to L2; then Olivia (L1) may not page L3.
    const byCommand = await driver.command("U0DANA", CHANNEL, `escalate ${ref} features look off`);
    expect(byCommand.status).toBe(200);
    expect(JSON.stringify(byCommand.body)).toContain(`You escalated ${ref} to L2`);
    const l1Try = await driver.command("U0OLIVIA", CHANNEL, `escalate ${ref}`);
    expect(JSON.stringify(l1Try.body)).toContain("you are in L1; from L2 that takes L2 or a higher tier");

    const events = await timeline(id);
    const refused = events.filter((e) => e.kind === "refused");
    expect(refused.map((e) => [e.actor, e.detail.action])).toEqual([
      ["U0GUEST", "escalate"],
      ["U0OLIVIA", "escalate"],
    ]);
    expect(events.filter((e) => e.kind === "escalated").map((e) => [e.actor, e.detail.note])).toEqual([
      ["U0DANA", "features look off"],
    ]);
    expect((await createEscalationRepository(bot.database.db).byIncident(id))?.tier).toBe(2);
    const audit = await createAuditRepository(bot.database.db).recent({ limit: 200 });
    const escalations = audit.filter((a) => a.action === "incident.escalate" && a.target === ref);
    expect(escalations.map((a) => [a.actor, a.outcome]).reverse()).toEqual([
      ["U0GUEST", "refused"],
      ["U0DANA", "ok"],
      ["U0OLIVIA", "refused"],
    ]);
    // Dana's escalation pages L2 in the background: let it finish, so the next test's count of
    // outbox rows is not raced by it.
    await eventually("the L2 page to reach Dev", () =>
      dmsOf(bot, "U0DEV").some((m) => m.text.startsWith(`${ref} L2 page`)),
    );
  });

  it("bad input to /mlops escalate gets a usage line and writes nothing", async () => {
    const outbox = createOutboxRepository(bot.database.db);
    await outboxDrained(bot);
    const rows = (await outbox.all()).length;
    const bad = await bot.sandbox.driver.command("U0DANA", CHANNEL, "escalate nonsense");
    expect(JSON.stringify(bad.body)).toContain("is not an incident reference");
    const missing = await bot.sandbox.driver.command("U0DANA", CHANNEL, "escalate INC-99999");
    expect(JSON.stringify(missing.body)).toContain("There is no incident INC-99999");
    expect((await outbox.all()).length).toBe(rows);
  });

  it("an Acknowledge from a page of an already acknowledged incident stops its timer and is in the timeline", async () => {
    const { workspace, driver } = bot.sandbox;
    const { id, ref } = await openIncident(bot, clock);
    const posted = await card(ref);
    await driver.clickButton("U0OLIVIA", posted, "incident_acknowledge");
    await eventually("the acknowledgement", () =>
      text(workspace.message(CHANNEL, posted.ts)).includes("Acknowledged by <@U0OLIVIA>"),
    );
    const before = dmsOf(bot, "U0DEV").length;
    await driver.command("U0OLIVIA", CHANNEL, `escalate ${ref} need a data scientist`);
    const page = await eventually("Dev's page", () => dmsOf(bot, "U0DEV")[before]);
    await driver.clickButton("U0DEV", page, "escalation_acknowledge");
    await eventually("the page acknowledgement", async () =>
      (await timeline(id)).some((e) => e.kind === "page_acknowledged" && e.actor === "U0DEV"),
    );
    await outboxDrained(bot);
    clock.advance(20 * MIN);
    await bot.escalation.ticker.tick();
    const events = await timeline(id);
    expect(events.filter((e) => e.kind === "escalated").map((e) => e.detail.to)).toEqual([2]);
    expect((await createEscalationRepository(bot.database.db).byIncident(id))?.nextAt).toBeNull();
  });

  it("/mlops oncall lists L1, L2 and L3 of a model with their members", async () => {
    const res = await bot.sandbox.driver.command("U0GUEST", CHANNEL, "oncall fraud-detector");
    const body = JSON.stringify(res.body);
    expect(body).toContain("*L1* @mlops-oncall: <@U0OLIVIA>, <@U0OMAR>");
    expect(body).toContain("*L2* @ds-oncall: <@U0DANA>, <@U0DEV>");
    expect(body).toContain("*L3* @fraud-ml-team: <@U0MAYA>");
    const bad = await bot.sandbox.driver.command("U0GUEST", CHANNEL, "oncall nope");
    expect(JSON.stringify(bad.body)).toContain("is not a model");
  });
});
