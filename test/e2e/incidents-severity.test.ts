import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAuditRepository } from "../../src/audit/index.js";
import { createEscalationRepository } from "../../src/escalation/index.js";
import { createIncidentRepository } from "../../src/incidents/index.js";
import type { AlertSignal } from "../../src/shared/alert-signal.js";
import type { SandboxMessage } from "../../src/slack/sandbox/index.js";
import {
  dmsOf,
  type EscalationBot,
  groupId,
  skippingClock,
  startEscalationBot,
} from "../escalation/helpers.js";
import { demoConfig } from "../helpers/bot.js";
import { driftFinding } from "../helpers/signals.js";
import { eventually, outboxDrained } from "./incidents-bot.js";

/**
 * Severity under the demo config (mlops.config.yaml): info opens no incident, critical pages L2 at
 * once, and the card's select changes the level — through signed Slack payloads into the bot.
 */
const CHANNEL = "fraud-alerts";
const MIN = 60_000;
const clock = skippingClock();
let bot: EscalationBot;

beforeAll(async () => {
  bot = await startEscalationBot({ clock, config: demoConfig() });
});
afterAll(async () => {
  await bot?.close();
});

let seq = 0;
/** A finding of its own monitor (so its group is its own), as a monitor run would hand it over. */
function finding(severity: AlertSignal["severity"], over: Partial<AlertSignal> = {}): AlertSignal {
  const n = ++seq;
  return driftFinding(`feature_${n}`, { severity, monitor: `drift_${n}`, observedAt: clock.now(), ...over });
}

/** The tier an incident's escalation is at; undefined before the timer has started it. */
async function tierOf(id: number): Promise<number | undefined> {
  return (await createEscalationRepository(bot.database.db).byIncident(id))?.tier;
}

function text(m: { text?: string; blocks?: unknown } | undefined): string {
  return `${m?.text ?? ""} ${JSON.stringify(m?.blocks ?? [])}`;
}

async function card(ref: string): Promise<SandboxMessage> {
  return eventually(`the card of ${ref}`, () =>
    bot.sandbox.workspace.messages(CHANNEL).find((m) => m.text.startsWith(`${ref} [`)),
  );
}

function current(m: SandboxMessage): SandboxMessage {
  return bot.sandbox.workspace.message(CHANNEL, m.ts) ?? m;
}

/** The card's Severity field and the select's chosen option, as the channel shows them now. */
function severityShown(m: SandboxMessage): { field: string | undefined; selected: string | undefined } {
  let field: string | undefined;
  let selected: string | undefined;
  for (const block of current(m).blocks ?? []) {
    const b = block as {
      fields?: { text: string }[];
      elements?: { action_id?: string; initial_option?: { value: string } }[];
    };
    field ??= b.fields?.find((f) => f.text.startsWith("*Severity*\n"))?.text.slice("*Severity*\n".length);
    const select = b.elements?.find((e) => e.action_id === "incident_severity");
    if (select) selected = select.initial_option?.value.split(":")[1];
  }
  return { field, selected };
}

function feedLines(title: string): SandboxMessage[] {
  return bot.sandbox.workspace.messages(CHANNEL).filter((m) => m.text === `Info: ${title} (fraud-detector)`);
}

async function incidentsOf(monitor: string) {
  const rows = await createIncidentRepository(bot.database.db).list({ limit: 500 });
  return rows.filter((i) => i.monitor === monitor);
}

describe("info findings", () => {
  it("never open an incident: one feed line when the finding starts firing, none while it keeps firing", async () => {
    const info = finding("info");
    const [first] = await bot.incidents.intake.process([info]);
    expect(first).toMatchObject({ incidentId: null, effect: "noted" });
    const line = await eventually("the feed line", () => feedLines(info.title)[0]);
    expect(text(line)).toContain(":information_source: *Info*");
    expect(text(line)).toContain("PSI &gt;= 0.2 (fixed threshold)");
    // No buttons: it is not an incident.
    expect(text(line)).not.toContain("incident_acknowledge");

    const [again] = await bot.incidents.intake.process([{ ...info, observedAt: clock.now() }]);
    expect(again).toMatchObject({ incidentId: null, effect: "recorded" });
    // It stops, then starts again: the feed hears of it once more.
    await bot.incidents.intake.process([{ ...info, status: "resolved", observedAt: clock.now() }]);
    const [restarted] = await bot.incidents.intake.process([{ ...info, observedAt: clock.now() }]);
    expect(restarted).toMatchObject({ incidentId: null, effect: "noted" });
    await outboxDrained(bot);
    expect(feedLines(info.title)).toHaveLength(2);
    expect(await incidentsOf(info.monitor)).toEqual([]);
  });

  it("join their group's incident while one is open for a worse finding, and keep it at that severity", async () => {
    const warning = finding("warning");
    const [opened] = await bot.incidents.intake.process([warning]);
    expect(opened?.effect).toBe("opened");
    const info = driftFinding("late_feature", {
      severity: "info",
      monitor: warning.monitor,
      observedAt: clock.now(),
    });
    const [joined] = await bot.incidents.intake.process([info]);
    expect(joined).toMatchObject({ incidentId: opened?.incidentId, effect: "joined" });
    const incidents = await incidentsOf(warning.monitor);
    expect(incidents.map((i) => i.severity)).toEqual(["warning"]);
    await outboxDrained(bot);
    expect(feedLines(info.title)).toEqual([]);
  });
});

describe("critical findings under the demo config", () => {
  it("page L2 at once (mention and DMs), show L2 on the card, and reach L3 after L2's 15 minutes", async () => {
    const probe = finding("critical", {
      monitor: "probe_critical",
      subject: "availability",
      title: "fraud-detector service is unreachable",
    });
    const [opened] = await bot.incidents.intake.process([probe]);
    const id = opened?.incidentId as number;
    const ref = `INC-${id}`;
    const posted = await card(ref);
    const l2 = groupId(bot, "ds-oncall");
    const mention = await eventually("the L2 page in the thread", () =>
      bot.sandbox.workspace.thread(CHANNEL, posted.ts).find((m) => m.text.includes("L2 page")),
    );
    expect(text(mention)).toContain(`<!subteam^${l2}>`);
    expect(text(mention)).toContain("critical incidents page L2 at once");
    for (const user of ["U0DANA", "U0DEV"])
      await eventually(`${user}'s page`, () => dmsOf(bot, user).some((m) => text(m).includes(ref)));
    // L1 is not DMed under the demo policy; nobody at L3 yet.
    expect(dmsOf(bot, "U0MAYA").filter((m) => text(m).includes(ref))).toEqual([]);
    await eventually("the card to show L2", () => text(current(posted)).includes("L2 (@ds-oncall)"));
    const escalated = (await bot.incidents.incidents.timeline(id)).filter((e) => e.kind === "escalated");
    expect(escalated.map((e) => [e.actor, e.detail.from, e.detail.to])).toEqual([["system", 1, 2]]);

    await outboxDrained(bot);
    clock.advance(16 * MIN);
    await eventually("the L3 page to the owner", () =>
      dmsOf(bot, "U0MAYA").some((m) => text(m).includes(ref)),
    );
    expect(await tierOf(id)).toBe(3);
  });

  it("a critical finding joining a warning incident raises it and pages L2 at once", async () => {
    const slow = finding("warning", {
      monitor: "probe_group",
      subject: "latency",
      title: "service took 900 ms",
    });
    const [opened] = await bot.incidents.intake.process([slow]);
    const id = opened?.incidentId as number;
    await eventually("the escalation at L1", async () => (await tierOf(id)) === 1);
    const [joined] = await bot.incidents.intake.process([
      finding("critical", {
        monitor: "probe_group",
        subject: "availability",
        title: "service is unreachable",
      }),
    ]);
    expect(joined).toMatchObject({ incidentId: id, effect: "joined" });
    expect((await bot.incidents.incidents.get(id)).severity).toBe("critical");
    expect(await tierOf(id)).toBe(2);
    const escalated = (await bot.incidents.incidents.timeline(id)).filter((e) => e.kind === "escalated");
    expect(escalated.map((e) => [e.actor, e.detail.from, e.detail.to])).toEqual([["system", 1, 2]]);
    expect(String(escalated[0]?.detail.what)).toContain("severity raised from warning to critical");
  });

  it("a warning incident starts at L1", async () => {
    const [opened] = await bot.incidents.intake.process([finding("warning")]);
    const id = opened?.incidentId as number;
    const row = await eventually("the escalation row", () =>
      createEscalationRepository(bot.database.db).byIncident(id),
    );
    expect(row.tier).toBe(1);
  });
});

describe("the card's severity select", () => {
  it("refuses someone who may not acknowledge, changes nothing, and says who may", async () => {
    const [opened] = await bot.incidents.intake.process([finding("warning")]);
    const id = opened?.incidentId as number;
    const posted = await card(`INC-${id}`);
    const res = await bot.sandbox.driver.chooseOption(
      "U0GUEST",
      posted,
      "incident_severity",
      `${id}:critical`,
    );
    expect(res.status).toBe(200);
    const told = await eventually("the refusal", () =>
      bot.sandbox.workspace.ephemerals("U0GUEST").find((e) => e.text.includes(`INC-${id}`)),
    );
    expect(told.text).toContain(`You may not change the severity of INC-${id}`);
    expect(told.text).toContain("Nothing was changed");
    const incident = await bot.incidents.incidents.get(id);
    expect(incident.severity).toBe("warning");
    const kinds = (await bot.incidents.incidents.timeline(id)).map((e) => e.kind);
    expect(kinds).toContain("refused");
    expect(kinds).not.toContain("severity_changed");
  });

  it("re-renders the card, notes it in the thread and the timeline, pages L2 when raised to critical, and findings no longer change it", async () => {
    const warning = finding("warning");
    const [opened] = await bot.incidents.intake.process([warning]);
    const id = opened?.incidentId as number;
    const ref = `INC-${id}`;
    const posted = await card(ref);
    expect(severityShown(posted)).toEqual({ field: ":warning: warning", selected: "warning" });
    await eventually("the escalation at L1", async () => (await tierOf(id)) === 1);
    // Olivia takes it (update rhythm: warning 4h), then raises it to critical.
    await bot.sandbox.driver.clickButton("U0OLIVIA", posted, "incident_take");
    await eventually(
      "the owner",
      async () => (await bot.incidents.incidents.get(id)).assignee === "U0OLIVIA",
    );
    const res = await bot.sandbox.driver.chooseOption(
      "U0OLIVIA",
      current(posted),
      "incident_severity",
      `${id}:critical`,
    );
    expect(res.status).toBe(200);
    await eventually(
      "the card to show critical",
      () => severityShown(posted).field === ":rotating_light: critical",
    );
    expect(severityShown(posted).selected).toBe("critical");
    await eventually("the thread note", () =>
      bot.sandbox.workspace
        .thread(CHANNEL, posted.ts)
        .some((m) => text(m).includes("changed the severity from *warning* to *critical*")),
    );
    const changed = await bot.incidents.incidents.get(id);
    expect(changed.severity).toBe("critical");
    // The critical rhythm (30 min) applies from now on.
    const due = (changed.updateDueAt?.getTime() ?? 0) - clock.now().getTime();
    expect(due).toBeGreaterThan(25 * MIN);
    expect(due).toBeLessThanOrEqual(30 * MIN);
    const timeline = await bot.incidents.incidents.timeline(id);
    const event = timeline.find((e) => e.kind === "severity_changed");
    expect(event).toMatchObject({
      actor: "U0OLIVIA",
      via: "button",
      detail: { from: "warning", to: "critical" },
    });
    // Nobody had acknowledged: critical starts at L2, so L2 is paged now.
    const escalated = timeline.filter((e) => e.kind === "escalated");
    expect(escalated.map((e) => [e.detail.from, e.detail.to])).toEqual([[1, 2]]);
    expect(String(escalated[0]?.detail.what)).toContain("severity raised from warning to critical");
    await eventually("the L2 page", () =>
      bot.sandbox.workspace.thread(CHANNEL, posted.ts).some((m) => m.text.includes("L2 page")),
    );
    const audit = await createAuditRepository(bot.database.db).recent({ actor: "U0OLIVIA", limit: 20 });
    expect(audit.find((a) => a.action === "incident.severity")).toMatchObject({
      target: ref,
      outcome: "ok",
      detail: { from: "warning", to: "critical" },
    });

    // A later warning finding joins the group: the hand-set severity stays.
    await bot.incidents.intake.process([
      driftFinding("second_feature", {
        severity: "warning",
        monitor: warning.monitor,
        observedAt: clock.now(),
      }),
    ]);
    expect((await bot.incidents.incidents.get(id)).severity).toBe("critical");

    // Choosing what it already is changes nothing and says so.
    await bot.sandbox.driver.chooseOption("U0OMAR", current(posted), "incident_severity", `${id}:critical`);
    await eventually("the 'already' note", () =>
      bot.sandbox.workspace.ephemerals("U0OMAR").some((e) => e.text.includes(`${ref} is critical already`)),
    );
    // Lowering it pages nobody back down; the card follows.
    await bot.sandbox.driver.chooseOption("U0OMAR", current(posted), "incident_severity", `${id}:info`);
    await eventually(
      "the card to show info",
      () => severityShown(posted).field === ":information_source: info",
    );
    expect(await tierOf(id)).toBe(2);
    const changes = (await bot.incidents.incidents.timeline(id)).filter((e) => e.kind === "severity_changed");
    expect(changes.map((e) => [e.actor, e.detail.to])).toEqual([
      ["U0OLIVIA", "critical"],
      ["U0OMAR", "info"],
    ]);
  });

  it("rejects a forged option value and writes nothing", async () => {
    const [opened] = await bot.incidents.intake.process([finding("warning")]);
    const id = opened?.incidentId as number;
    const posted = await card(`INC-${id}`);
    await expect(
      bot.sandbox.driver.chooseOption("U0OLIVIA", posted, "incident_severity", `${id}:apocalyptic`),
    ).rejects.toThrow(/no option/);
    const before = (await bot.incidents.incidents.timeline(id)).length;
    // The same forged value sent as Slack would (signed): acknowledged and ignored.
    const res = await bot.sandbox.driver.chooseOption(
      "U0OLIVIA",
      posted,
      "incident_severity",
      `${id}:apocalyptic`,
      {
        anyValue: true,
      },
    );
    expect(res.status).toBe(200);
    const other = await bot.sandbox.driver.chooseOption(
      "U0OLIVIA",
      posted,
      "incident_severity",
      `999999:critical`,
      {
        anyValue: true,
      },
    );
    expect(other.status).toBe(200);
    await outboxDrained(bot);
    expect(bot.sandbox.workspace.ephemerals("U0OLIVIA").some((e) => e.text.includes("INC-999999"))).toBe(
      true,
    );
    expect((await bot.incidents.incidents.timeline(id)).length).toBe(before);
    expect((await bot.incidents.incidents.get(id)).severity).toBe("warning");
  });
});

describe("/mlops severity", () => {
  async function run(user: string, text: string): Promise<string> {
    const res = await bot.sandbox.driver.command(user, CHANNEL, text);
    expect(res.status).toBe(200);
    return (res.body as { text: string }).text;
  }

  it("sets the level like the select, refuses people who may not acknowledge, and a bad level writes nothing", async () => {
    const [opened] = await bot.incidents.intake.process([finding("warning")]);
    const id = opened?.incidentId as number;
    const ref = `INC-${id}`;
    const posted = await card(ref);
    const events = async () => (await bot.incidents.incidents.timeline(id)).length;

    const before = await events();
    expect(await run("U0OLIVIA", `severity ${ref} loud`)).toBe(
      "`loud` is not a severity (critical, warning or info). Usage: `/mlops severity INC-n critical|warning|info`",
    );
    expect(await run("U0OLIVIA", `severity ${ref}`)).toContain("Say which severity.");
    expect(await events()).toBe(before);

    expect(await run("U0GUEST", `severity ${ref} info`)).toContain(
      `You may not change the severity of ${ref}`,
    );
    expect((await bot.incidents.incidents.get(id)).severity).toBe("warning");

    expect(await run("U0DANA", `severity ${ref} info`)).toBe(`${ref} is info now.`);
    await eventually(
      "the card to show info",
      () => severityShown(posted).field === ":information_source: info",
    );
    const change = (await bot.incidents.incidents.timeline(id)).find((e) => e.kind === "severity_changed");
    expect(change).toMatchObject({
      actor: "U0DANA",
      via: "command",
      detail: { from: "warning", to: "info" },
    });
  });
});
