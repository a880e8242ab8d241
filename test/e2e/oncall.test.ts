import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import ICAL from "ical.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiTokenService } from "../../src/api-tokens/index.js";
import { auditLog, oncallOverrides } from "../../src/db/schema/index.js";
import { createFeatures } from "../../src/features.js";
import { USER_PROPERTY } from "../../src/oncall/index.js";
import { systemClock } from "../../src/shared/clock.js";
import { ACTION_IDS, VIEW_IDS } from "../../src/slack/action-ids.js";
import type { OnCallFeature } from "../../src/wiring/oncall-feature.js";
import { demoConfig, startTestBot } from "../helpers/bot.js";
import { freePort, spawnBot } from "../helpers/process.js";
import { alertmanagerFiring } from "../helpers/signals.js";
import { eventually } from "./incidents-bot.js";

type TestBot = Awaited<ReturnType<typeof startTestBot>>;
let bot: TestBot;
let readToken: string;
let ingestToken: string;
let alertsToken: string;
let calendarToken: string;
let oncallFeature: OnCallFeature;

/** Wednesday 25 March 2026, 13:00 in Berlin: week 11 of the demo's ds-oncall rotation (Dev's). */
const NOW = new Date("2026-03-25T12:00:00Z");
/** The bot's clock starts at NOW and runs on (the outbox paces writes by it). */
const started = Date.now();
const clock = { now: () => new Date(NOW.getTime() + (Date.now() - started)) };

beforeAll(async () => {
  // The demo config: ds-oncall is a weekly rotation of U0DANA and U0DEV from Monday 5 January.
  // Its L2 tier pages ds-oncall's person on call (besides mentioning the group).
  const config = demoConfig();
  config.escalation.default.l2.schedule = "ds-oncall";
  // Critical incidents start at L2, and there L2 is schedule-only: no group, just the person on call.
  const critical = config.escalation.severity.critical;
  if (!critical) throw new Error("the demo config has a critical escalation policy");
  critical.l2 = { ...critical.l2, group: "none" };
  bot = await startTestBot({
    config,
    clock,
    handoffReminders: true,
    features: (ctx) => {
      const features = createFeatures(ctx);
      oncallFeature = features.find((f) => f.name === "oncall") as OnCallFeature;
      return features;
    },
  });
  const tokens = createApiTokenService(bot.database.db, systemClock);
  readToken = await tokens.create("calendar-reader", ["read"]);
  ingestToken = await tokens.create("ingest-only", ["ingest"]);
  alertsToken = await tokens.create("alertmanager", ["alerts"]);
  calendarToken = await tokens.create("my-calendar", ["calendar"]);
});
afterAll(async () => {
  await bot?.close();
});

function feed(path: string, token?: string) {
  return fetch(`${bot.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
}

/**
 * The expected shifts, written out without the code under test: every Monday at 09:00 Berlin time
 * (+01:00 until the clocks go forward on 29 March, +02:00 after), Dana and Dev in turn, over the
 * feed's horizon (8 weeks back, 12 weeks ahead of NOW): the first shift whole, the last cut.
 */
function expectedShifts(): [string, string, string][] {
  const mondays: string[] = [];
  for (let d = Date.UTC(2026, 1, 2); d <= Date.UTC(2026, 5, 15); d += 7 * 86_400_000)
    mondays.push(new Date(d).toISOString().slice(0, 10));
  const handoff = (day: string) =>
    new Date(`${day}T09:00:00${day < "2026-03-29" ? "+01:00" : "+02:00"}`).toISOString();
  const out: [string, string, string][] = [["U0DEV", handoff("2026-01-26"), handoff("2026-02-02")]];
  mondays.forEach((day, i) => {
    const end = mondays[i + 1] ? handoff(mondays[i + 1] as string) : "2026-06-17T12:00:00.000Z";
    out.push([i % 2 === 0 ? "U0DANA" : "U0DEV", handoff(day), end]);
  });
  return out;
}

describe("GET /api/v1/schedules/<name>.ics", () => {
  it("answers 401 without a token and 403 to a token without the read scope", async () => {
    const none = await feed("/api/v1/schedules/ds-oncall.ics");
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toContain("Bearer");
    const wrong = await feed("/api/v1/schedules/ds-oncall.ics", ingestToken);
    expect(wrong.status).toBe(403);
  });

  it("serves the demo's ds-oncall as iCalendar that parses back with ical.js to the rotation's shifts", async () => {
    const res = await feed("/api/v1/schedules/ds-oncall.ics", readToken);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/calendar/);
    const cal = new ICAL.Component(ICAL.parse(await res.text()) as unknown[]);
    const events = cal.getAllSubcomponents("vevent").map((c) => new ICAL.Event(c));
    const parsed = events.map((e) => [
      String(e.component.getFirstPropertyValue(USER_PROPERTY.toLowerCase())),
      e.startDate.toJSDate().toISOString(),
      e.endDate.toJSDate().toISOString(),
    ]);
    // The last shift is cut at 12 weeks after the bot's clock read it (which runs on from NOW).
    const cut = Date.parse(parsed[parsed.length - 1]?.[2] as string) - Date.parse("2026-06-17T12:00:00Z");
    expect(cut).toBeGreaterThanOrEqual(0);
    expect(cut).toBeLessThan(120_000);
    (parsed[parsed.length - 1] as string[])[2] = "2026-06-17T12:00:00.000Z";
    expect(parsed).toEqual(expectedShifts());
    expect(events[1]?.summary).toBe("On call: Dana Science (L2 data scientist) (@dana)");
  });

  it("takes a calendar-only token in the address, for calendar apps, and no other token there", async () => {
    const url = (token: string) => `/api/v1/schedules/ds-oncall.ics?token=${encodeURIComponent(token)}`;
    const ok = await feed(url(calendarToken));
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain("BEGIN:VCALENDAR");
    // A read token could read the incident log too: it may not travel in an address.
    const read = await feed(url(readToken));
    expect(read.status).toBe(403);
    expect(((await read.json()) as { message: string }).message).toContain(
      "only a token whose one scope is calendar",
    );
    expect((await feed(url("not-a-token"))).status).toBe(401);
    // In the header the calendar token reads the feed, and nothing else.
    expect((await feed("/api/v1/schedules/ds-oncall.ics", calendarToken)).status).toBe(200);
    expect((await feed("/api/v1/incidents", calendarToken)).status).toBe(403);
  });

  it("answers 404 naming the known feeds for an unknown schedule", async () => {
    const res = await feed("/api/v1/schedules/nope.ics", readToken);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { message: string }).message).toContain("ds-oncall.ics");
  });
});

describe("/mlops oncall <schedule> over signed HTTP", () => {
  function channelId(name: string): string {
    const channel = bot.sandbox.workspace.channelByName(name);
    if (!channel) throw new Error(`no channel ${name}`);
    return channel.id;
  }
  async function ask(user: string, text: string): Promise<string> {
    const res = await bot.sandbox.driver.command(user, channelId("fraud-alerts"), text);
    expect(res.status).toBe(200);
    return JSON.stringify(res.body);
  }

  it("shows who is on now and next with handoff times in the viewer's Slack time zone", async () => {
    // Dana's Slack time zone is Europe/Berlin: the handoffs read 09:00 on both sides of the DST change.
    const dana = await ask("U0DANA", "oncall ds-oncall");
    expect(dana).toContain("*Now:* <@U0DEV> since Mon 23 Mar 09:00, until Mon 30 Mar 09:00");
    expect(dana).toContain("*Next:* <@U0DANA> from Mon 30 Mar 09:00 until Mon 6 Apr 09:00");
    expect(dana).toContain("Times in Europe/Berlin (your Slack time zone)");
    // Dev is in America/New_York (already on summer time): 08:00Z is 04:00, 07:00Z is 03:00.
    const dev = await ask("U0DEV", "oncall ds-oncall");
    expect(dev).toContain("*Now:* <@U0DEV> since Mon 23 Mar 04:00, until Mon 30 Mar 03:00");
    expect(dev).toContain("Times in America/New_York (your Slack time zone)");
  });

  it("shows a model's tiers with the person on call in a tier's schedule, and names both kinds for something that is neither", async () => {
    const model = await ask("U0OLIVIA", "oncall fraud-detector");
    expect(model).toContain("*L2* @ds-oncall: <@U0DANA>, <@U0DEV> · on call in ds-oncall: <@U0DEV>");
    expect(await ask("U0OLIVIA", "oncall")).toContain("Schedules: `/mlops oncall ds-oncall`");
    const neither = await ask("U0OLIVIA", "oncall nothing-here");
    expect(neither).toContain("neither a model nor a schedule");
    expect(neither).toContain("ds-oncall");
  });
});

describe("an L2 page through the ds-oncall schedule", () => {
  it("DMs only the person on call and names them first in the thread's mention", async () => {
    const fired = await fetch(`${bot.url}/api/v1/alertmanager`, {
      method: "POST",
      headers: { authorization: `Bearer ${alertsToken}`, "content-type": "application/json" },
      body: JSON.stringify(alertmanagerFiring("FraudScorerSlow", "warning", "p99 latency above 300 ms")),
    });
    expect(fired.status).toBe(200);
    const { workspace, driver } = bot.sandbox;
    const channel = workspace.channelByName("fraud-alerts")?.id as string;
    const card = await eventually("the incident's card", () =>
      workspace.messages(channel).find((m) => /^INC-\d+ \[/.test(m.text)),
    );
    const ref = card.text.split(" ")[0] as string;
    const res = await driver.command("U0OLIVIA", channel, `escalate ${ref} scorer is slow`);
    expect(res.status).toBe(200);
    const dms = (user: string) => workspace.messages(workspace.openDm([user]).channel.id);
    const page = await eventually("Dev's page", () => dms("U0DEV")[0], 15_000);
    expect(JSON.stringify(page.blocks)).toContain("on call in ds-oncall");
    const mention = await eventually("the L2 mention in the thread", () =>
      workspace.thread(channel, card.ts).find((m) => m.text.includes("L2 page")),
    );
    expect(JSON.stringify(mention.blocks)).toContain("<@U0DEV> (on call in ds-oncall) <!subteam^");
    expect(dms("U0DANA")).toHaveLength(0);
  });
});

describe("a schedule-only tier (group: none)", () => {
  it("pages only the person on call, mentions no group, and lets only them escalate from it", async () => {
    const fired = await fetch(`${bot.url}/api/v1/alertmanager`, {
      method: "POST",
      headers: { authorization: `Bearer ${alertsToken}`, "content-type": "application/json" },
      body: JSON.stringify(alertmanagerFiring("FraudScorerDown", "critical", "the scorer is down")),
    });
    expect(fired.status).toBe(200);
    const { workspace, driver } = bot.sandbox;
    const channel = workspace.channelByName("fraud-alerts")?.id as string;
    const card = await eventually("the critical incident's card", () =>
      workspace
        .messages(channel)
        .find((m) => /^INC-\d+ \[/.test(m.text) && m.text.includes("the scorer is down")),
    );
    const ref = card.text.split(" ")[0] as string;
    const dms = (user: string) => workspace.messages(workspace.openDm([user]).channel.id);
    // Critical starts at L2 at once: Dev (on call this week) is DMed, nobody else of the L2 group.
    const page = await eventually(
      "Dev's page",
      () => dms("U0DEV").find((m) => m.text.startsWith(ref)),
      15_000,
    );
    expect(JSON.stringify(page.blocks)).toContain("on call in ds-oncall");
    expect(dms("U0DANA").some((m) => m.text.startsWith(ref))).toBe(false);
    const mention = await eventually("the L2 mention in the thread", () =>
      workspace.thread(channel, card.ts).find((m) => m.text.includes("L2 page")),
    );
    const said = JSON.stringify(mention.blocks);
    expect(said).toContain("<@U0DEV> (on call in ds-oncall)");
    expect(said).not.toContain("<!subteam^");
    const tierShown = await eventually("the card's tier", () => {
      const now = workspace.messages(channel).find((m) => m.ts === card.ts);
      return JSON.stringify(now?.blocks).includes("L2 (on call in ds-oncall)") ? now : undefined;
    });
    expect(tierShown).toBeDefined();
    // Dana is in the L2 group but not on call, so she is not of this tier: she may not page L3.
    const refused = await driver.command("U0DANA", channel, `escalate ${ref} over to the owners`);
    expect(JSON.stringify(refused.body)).toMatch(/You may not escalate .* from L2/);
    const ok = await driver.command("U0DEV", channel, `escalate ${ref} over to the owners`);
    expect(JSON.stringify(ok.body)).toContain("to L3");
  });
});

describe("/mlops oncall override and undo, then who is paged", () => {
  const workspace = () => bot.sandbox.workspace;
  const driver = () => bot.sandbox.driver;
  const channel = () => workspace().channelByName("fraud-alerts")?.id as string;
  const dms = (user: string) => workspace().messages(workspace().openDm([user]).channel.id);
  async function say(user: string, text: string): Promise<string> {
    const res = await driver().command(user, channel(), text);
    expect(res.status).toBe(200);
    return JSON.stringify(res.body);
  }
  async function pageL2(alert: string): Promise<void> {
    const fired = await fetch(`${bot.url}/api/v1/alertmanager`, {
      method: "POST",
      headers: { authorization: `Bearer ${alertsToken}`, "content-type": "application/json" },
      body: JSON.stringify(alertmanagerFiring(alert, "warning", `${alert} fired`)),
    });
    expect(fired.status).toBe(200);
    const card = await eventually(`the card of ${alert}`, () =>
      workspace()
        .messages(channel())
        .find((m) => /^INC-\d+ \[/.test(m.text) && m.text.includes(alert)),
    );
    const ref = card.text.split(" ")[0] as string;
    expect((await driver().command("U0OLIVIA", channel(), `escalate ${ref} ${alert}`)).status).toBe(200);
  }

  it("refuses bad input and people outside the schedule with a clear message, storing nothing", async () => {
    expect(await say("U0DANA", "oncall override nope <@U0DANA> now 2026-03-31 12:00")).toContain(
      "There is no schedule `nope`",
    );
    expect(await say("U0DANA", "oncall override ds-oncall <@U0NOBODY> now 2026-03-31 12:00")).toContain(
      "is not a Slack user",
    );
    expect(await say("U0DANA", "oncall override ds-oncall <@U0DANA> 2026-03-31 12:00 now")).toContain(
      "must end after it starts",
    );
    expect(await say("U0DANA", "oncall override ds-oncall <@U0DANA> now 31/03")).toContain(
      "`31/03` is not a time",
    );
    expect(await say("U0OLIVIA", "oncall override ds-oncall <@U0OLIVIA> now 2026-03-31 12:00")).toContain(
      "manage_oncall",
    );
    expect(await say("U0DANA", "oncall ds-oncall")).not.toContain("*Overrides*");
  });

  it("Dana takes over across Monday's handoff: the page DMs her, not Dev; after undo it DMs Dev again", async () => {
    const devPages = dms("U0DEV").length;
    // Dana's clock is Berlin's: until Tuesday 31 March 12:00 there, past Monday's 09:00 handoff.
    const set = await say("U0DANA", "oncall override ds-oncall <@U0DANA|dana> now 2026-03-31 12:00");
    const id = /Undo with `\/mlops oncall undo (\d+)`/.exec(set)?.[1];
    expect(id, set).toBeDefined();
    const view = await say("U0DEV", "oncall ds-oncall");
    expect(view).toContain("*Now:* <@U0DANA> (override)");
    // Dev reads Tuesday 12:00 Berlin as 06:00 in New York.
    expect(view).toContain(`\`#${id}\` <@U0DANA> from Wed 25 Mar`);
    expect(view).toContain("until Tue 31 Mar 06:00 (set by <@U0DANA>)");

    await pageL2("OverrideSlow");
    await eventually(
      "Dana's page",
      () => dms("U0DANA").find((m) => JSON.stringify(m.blocks).includes("OverrideSlow")),
      15_000,
    );
    expect(dms("U0DEV")).toHaveLength(devPages);

    expect(await say("U0OLIVIA", `oncall undo ${id}`)).toContain("manage_oncall");
    expect(await say("U0DEV", `oncall undo ${id}`)).toContain(`Undid override #${id}`);
    expect(await say("U0DEV", `oncall undo ${id}`)).toContain("already undone");
    expect(await say("U0DEV", "oncall ds-oncall")).not.toContain("*Overrides*");

    await pageL2("UndoneSlow");
    await eventually(
      "Dev's page",
      () => dms("U0DEV").find((m) => JSON.stringify(m.blocks).includes("UndoneSlow")),
      15_000,
    );
    expect(dms("U0DANA").filter((m) => JSON.stringify(m.blocks).includes("UndoneSlow"))).toHaveLength(0);
  });
});

describe("a handoff reminder's Find cover, and Take this shift", () => {
  it("DMs Dana before Monday's handoff; her Find cover asks the alert channel; an owner takes the shift", async () => {
    const { workspace, driver } = bot.sandbox;
    const dmOf = (user: string) => workspace.openDm([user]).channel.id;
    // An incident open at the handoff, for Dana to inherit.
    const fired = await fetch(`${bot.url}/api/v1/alertmanager`, {
      method: "POST",
      headers: { authorization: `Bearer ${alertsToken}`, "content-type": "application/json" },
      body: JSON.stringify(
        alertmanagerFiring("HandoffInherited", "warning", "HandoffInherited is still open"),
      ),
    });
    expect(fired.status).toBe(200);
    const fraud = workspace.channelByName("fraud-alerts")?.id as string;
    const card = await eventually("the open incident's card", () =>
      workspace
        .messages(fraud)
        .find((m) => /^INC-\d+ \[/.test(m.text) && m.text.includes("HandoffInherited")),
    );
    const ref = card.text.split(" ")[0] as string;
    // The claimed reminder tick 30 minutes before Monday 30 March 09:00 Berlin (07:00Z).
    expect(
      await oncallFeature.scheduler.claimTick("oncall:handoff-reminders", new Date("2026-03-30T06:30:00Z")),
    ).toBe("ran");
    const reminder = await eventually("Dana's reminder", () =>
      workspace.messages(dmOf("U0DANA")).find((m) => m.text.startsWith("Handoff:")),
    );
    expect(JSON.stringify(reminder.blocks)).toContain("taking over from <@U0DEV>");
    expect(JSON.stringify(reminder.blocks)).toMatch(/You inherit \d+ open incidents?/);
    expect(JSON.stringify(reminder.blocks)).toContain(`*${ref}* [warning, open] fraud-detector:`);
    expect((await driver.clickButton("U0DANA", reminder, ACTION_IDS.oncallFindCover)).status).toBe(200);
    const alerts = workspace.channelByName("mlops-alerts")?.id as string;
    const ask = await eventually("the cover request", () =>
      workspace.messages(alerts).find((m) => m.text.startsWith("Cover wanted in ds-oncall")),
    );
    expect(JSON.stringify(ask.blocks)).toContain("<@U0DANA> asks for cover in *ds-oncall*");
    // Olivia (L1, not in ds-oncall) may not take it: the request stays open.
    await driver.clickButton("U0OLIVIA", ask, ACTION_IDS.oncallTakeShift);
    await eventually("Olivia's refusal", () =>
      workspace.ephemerals("U0OLIVIA").find((e) => JSON.stringify(e).includes("manage_oncall")),
    );
    expect(JSON.stringify(workspace.message(alerts, ask.ts)?.blocks)).toContain(ACTION_IDS.oncallTakeShift);
    // Maya owns a model (manage_oncall: l2, owners): she takes it, and the request says so.
    await driver.clickButton("U0MAYA", ask, ACTION_IDS.oncallTakeShift);
    const taken = await eventually("the taken request", () => {
      const m = workspace.message(alerts, ask.ts);
      return m?.text.includes("took the") ? m : undefined;
    });
    expect(taken.text).toMatch(/<@U0MAYA> took the \*ds-oncall\* shift .* for <@U0DANA> \(override #\d+/);
    const view = await driver.command("U0DANA", alerts, "oncall ds-oncall");
    expect(JSON.stringify(view.body)).toContain(
      "*Next:* <@U0MAYA> (override) from Mon 30 Mar 09:00 until Mon 6 Apr 09:00",
    );
  });
});

describe("the Add override modal from /mlops oncall", () => {
  const workspace = () => bot.sandbox.workspace;
  const driver = () => bot.sandbox.driver;
  const channel = () => workspace().channelByName("fraud-alerts")?.id as string;
  /** Runs `/mlops <text>` and returns the ephemeral answer the sandbox shows `user`. */
  async function answer(user: string, text: string) {
    const before = workspace().ephemerals(user).length;
    expect((await driver().command(user, channel(), text)).status).toBe(200);
    const shown = workspace().ephemerals(user);
    expect(shown.length).toBe(before + 1);
    return shown.at(-1) as NonNullable<ReturnType<TestBot["sandbox"]["workspace"]["ephemeral"]>>;
  }
  const overrides = async () =>
    (await bot.database.db.select().from(oncallOverrides)).filter((o) => o.who === "U0GUEST");

  it("is offered only to people who may set overrides; a forged click is refused with an ephemeral", async () => {
    expect(JSON.stringify((await answer("U0OLIVIA", "oncall ds-oncall")).blocks)).not.toContain(
      ACTION_IDS.oncallAddOverride,
    );
    const dana = await answer("U0DANA", "oncall ds-oncall");
    expect(JSON.stringify(dana.blocks)).toContain(ACTION_IDS.oncallAddOverride);
    expect(JSON.stringify((await answer("U0MAYA", "oncall")).blocks)).toContain(ACTION_IDS.oncallAddOverride);
    // A model's view offers it too (its tiers name the schedules).
    expect(JSON.stringify((await answer("U0MAYA", "oncall fraud-detector")).blocks)).toContain(
      ACTION_IDS.oncallAddOverride,
    );
    expect(JSON.stringify((await answer("U0OLIVIA", "oncall fraud-detector")).blocks)).not.toContain(
      ACTION_IDS.oncallAddOverride,
    );
    // Olivia replays the button she never got: no modal, an ephemeral saying who may.
    expect((await driver().clickButton("U0OLIVIA", dana, ACTION_IDS.oncallAddOverride)).status).toBe(200);
    await eventually("Olivia's refusal", () =>
      workspace()
        .ephemerals("U0OLIVIA")
        .find((e) => e.text.includes("manage_oncall")),
    );
    expect(workspace().views("U0OLIVIA")).toEqual([]);
  });

  it("validates each field, storing nothing, then sets the same audited override as the command and confirms it", async () => {
    const dana = await answer("U0DANA", "oncall ds-oncall");
    expect((await driver().clickButton("U0DANA", dana, ACTION_IDS.oncallAddOverride)).status).toBe(200);
    const view = await eventually("the override modal", () =>
      workspace()
        .views("U0DANA")
        .find((v) => v.open && v.view.callback_id === VIEW_IDS.oncallOverride),
    );
    expect(JSON.stringify(view.view.blocks)).toContain(
      '"initial_option":{"text":{"type":"plain_text","text":"ds-oncall"}',
    );
    const at = (iso: string) => String(Date.parse(iso) / 1000);
    const who = { override_user: "U0GUEST" };
    // Ends before it starts, and a missing end: errors at the field, the modal stays open.
    const backwards = await driver().submitView("U0DANA", view.id, {
      ...who,
      override_from: at("2026-04-20T10:00:00Z"),
      override_to: at("2026-04-20T09:00:00Z"),
    });
    expect(backwards.body).toEqual({
      response_action: "errors",
      errors: { override_to: "The override must end after it starts." },
    });
    const past = await driver().submitView("U0DANA", view.id, {
      ...who,
      override_from: at("2026-03-01T10:00:00Z"),
      override_to: at("2026-03-02T10:00:00Z"),
    });
    expect(past.body).toMatchObject({ errors: { override_to: expect.stringContaining("in the past") } });
    const empty = await driver().submitView("U0DANA", view.id, { ...who, override_to: null });
    expect(empty.body).toMatchObject({ errors: { override_to: "Pick when the override ends." } });
    expect(workspace().view(view.id)?.open).toBe(true);
    expect(await overrides()).toEqual([]);

    // Gus (no group) covers Monday 20 April 11:00 to 13:00 Berlin time.
    const ok = await driver().submitView("U0DANA", view.id, {
      ...who,
      override_from: at("2026-04-20T09:00:00Z"),
      override_to: at("2026-04-20T11:00:00Z"),
    });
    expect(ok.status).toBe(200);
    expect(workspace().view(view.id)?.open).toBe(false);
    const [row] = await overrides();
    expect(row).toMatchObject({ schedule: "ds-oncall", createdBy: "U0DANA" });
    expect(row?.from.toISOString()).toBe("2026-04-20T09:00:00.000Z");
    const confirmation = await eventually("the confirmation", () =>
      workspace()
        .ephemerals("U0DANA")
        .find((e) => e.text.startsWith(`Override #${row?.id}:`)),
    );
    expect(confirmation.text).toBe(
      `Override #${row?.id}: <@U0GUEST> from Mon 20 Apr 11:00 until Mon 20 Apr 13:00 (set by <@U0DANA>) on \`ds-oncall\` (times in Europe/Berlin). Undo with \`/mlops oncall undo ${row?.id}\`.`,
    );
    const audited = await bot.database.db
      .select()
      .from(auditLog)
      .where(eq(auditLog.action, "oncall.override"));
    expect(
      audited.filter((a) => a.outcome === "ok" && a.actor === "U0DANA").map((a) => a.detail),
    ).toContainEqual(expect.objectContaining({ id: row?.id, who: "U0GUEST" }));
    expect(await answer("U0DANA", `oncall undo ${row?.id}`)).toMatchObject({
      text: expect.stringContaining(`Undid override #${row?.id}`),
    });
  });
});

describe("a bad schedule stops the start", () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const demo = readFileSync(new URL("../../mlops.config.yaml", import.meta.url), "utf8");
  const cases: [string, (s: string) => string, RegExp][] = [
    [
      "a handoff of 25:00",
      (s) => s.replace('handoff: "09:00"', 'handoff: "25:00"'),
      /schedules\.ds-oncall\.layers\[0\]\.handoff \(line \d+\): expected a time of day/,
    ],
    [
      "an imported calendar file that is missing",
      (s) => s.replace(/ {4}layers:\n( {6}.*\n| {8}.*\n)+/, "    ical: { file: ./no-such-export.ics }\n"),
      /schedules\.ds-oncall\.ical\.file: file not found: \.\/no-such-export\.ics/,
    ],
  ];
  for (const [what, edit, message] of cases) {
    it(`exits with 78 before listening on ${what}, naming the key`, async () => {
      const dir = mkdtempSync(join(tmpdir(), "mlops-oncall-"));
      dirs.push(dir);
      const edited = edit(demo);
      expect(edited).not.toBe(demo);
      const file = join(dir, "bad.yaml");
      writeFileSync(file, edited);
      const port = await freePort();
      const bot = spawnBot({
        PORT: String(port),
        HOST: "127.0.0.1",
        MLOPS_CONFIG: file,
        MLOPS_DATA_DIR: dir,
      });
      const exit = await bot.exited;
      expect(exit.code).toBe(78);
      expect(bot.output()).toMatch(message);
      await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    });
  }
});
