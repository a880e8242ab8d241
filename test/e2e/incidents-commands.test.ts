import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AlertSignal } from "../../src/shared/alert-signal.js";
import { oneIncidentPerFinding } from "../helpers/bot.js";
import { cardOf, eventually, type IncidentBot, startIncidentBot } from "./incidents-bot.js";

let bot: IncidentBot;
beforeAll(async () => {
  // Each test opens its own incident with a finding on a subject of its own.
  bot = await startIncidentBot({ config: oneIncidentPerFinding() });
});
afterAll(async () => {
  await bot?.close();
});

const CHANNEL = "fraud-alerts";
let seq = 0;

async function fire(over: Partial<AlertSignal> = {}): Promise<string> {
  const [o] = await bot.feature.intake.process([
    {
      source: "monitor",
      model: "fraud-detector",
      monitor: "data_quality",
      subject: `missing_${++seq}`,
      status: "firing",
      severity: "critical",
      title: `Missing values in feature ${seq}: 31%`,
      summary: "Missing share went from 2% to 31%.",
      metrics: { missing_share: 0.31, reference: 0.02 },
      rule: "missing share > 1.1 × reference",
      observedAt: new Date(),
      ...over,
    },
  ]);
  return `INC-${o?.incidentId}`;
}

async function run(user: string, text: string): Promise<string> {
  const res = await bot.sandbox.driver.command(user, CHANNEL, text);
  expect(res.status).toBe(200);
  const body = res.body as { text: string; response_type: string; blocks?: unknown };
  expect(body.response_type).toBe("ephemeral");
  return `${body.text}\n${JSON.stringify(body.blocks ?? [])}`;
}

describe("/mlops incident commands", () => {
  it("help lists the incident, owner and silence commands", async () => {
    const help = await run("U0OLIVIA", "help");
    for (const c of [
      "incidents",
      "incident INC-n",
      "ack INC-n",
      "assign INC-n @user",
      "update INC-n",
      "resolve INC-n",
      "silence",
      "silences",
      "unsilence",
    ]) {
      expect(help).toContain(`/mlops ${c}`);
    }
  });

  it("incidents lists unresolved ones, `all` includes resolved, and a model narrows it", async () => {
    const a = await fire();
    const b = await fire();
    await run("U0OLIVIA", `resolve ${b} fixed upstream`);
    const open = await run("U0GUEST", "incidents");
    expect(open).toContain(a);
    expect(open).not.toContain(`${b} `);
    expect(await run("U0GUEST", "incidents all fraud-detector")).toContain(b);
    expect(await run("U0GUEST", "incidents lots")).toContain("is neither open, all nor a model");
  });

  it("incident INC-n shows the card and the timeline; a bad or unknown reference says so", async () => {
    const ref = await fire();
    await run("U0DANA", `ack ${ref}`);
    const shown = await run("U0GUEST", `incident ${ref}`);
    expect(shown).toContain(`${ref} [acknowledged]`);
    expect(shown).toContain("*Timeline*");
    expect(shown).toContain("*opened* by monitor via alert");
    expect(shown).toContain("*acknowledged* by <@U0DANA> via command");
    expect(await run("U0GUEST", "incident INC-999999")).toContain("There is no incident INC-999999.");
    expect(await run("U0GUEST", "incident yesterday")).toContain("Usage: `/mlops incident INC-n`");
  });

  it("ack by an operator acknowledges and edits the card; by a guest it is refused and logged", async () => {
    const ref = await fire();
    const card = await eventually("the card", () => cardOf(bot, CHANNEL, ref));
    expect(await run("U0GUEST", `ack ${ref}`)).toContain(`You may not acknowledge ${ref}`);
    expect(await run("U0OMAR", `ack ${ref}`)).toContain(`You acknowledged ${ref}.`);
    expect(await run("U0OMAR", `ack ${ref}`)).toContain("it is already acknowledged by <@U0OMAR>");
    await eventually("the edited card", () =>
      JSON.stringify(bot.sandbox.workspace.message(CHANNEL, card.ts)?.blocks).includes(
        "Acknowledged by <@U0OMAR>",
      ),
    );
    const timeline = await bot.feature.incidents.timeline(Number(ref.slice(4)));
    expect(timeline.map((e) => [e.kind, e.actor, e.via]).filter(([k]) => k !== "posted")).toEqual([
      ["opened", "monitor", "alert"],
      ["refused", "U0GUEST", "command"],
      ["acknowledged", "U0OMAR", "command"],
      ["owner_changed", "U0OMAR", "command"],
      ["unchanged", "U0OMAR", "command"],
    ]);
  });

  it("resolve needs a note; with one it resolves and the summary lands in the thread", async () => {
    const ref = await fire();
    expect(await run("U0DANA", `resolve ${ref}`)).toContain("Say what fixed it");
    expect(await run("U0DANA", `resolve ${ref} "reran the ETL job"`)).toMatch(
      new RegExp(`You resolved ${ref} after \\d`),
    );
    const card = await eventually("the card", () => cardOf(bot, CHANNEL, ref));
    await eventually("the summary", () =>
      bot.sandbox.workspace.thread(CHANNEL, card.ts).some((m) => m.text.includes("reran the ETL job")),
    );
  });

  it("a note cut at its length cap in the middle of an emoji still resolves (the broken half is replaced)", async () => {
    const ref = await fire();
    // 1,999 characters, then an emoji whose two UTF-16 halves straddle the 2,000-character cap.
    const note = `${"a".repeat(1999)}🙂 and more`;
    expect(await run("U0DANA", `resolve ${ref} ${note}`)).toMatch(
      new RegExp(`You resolved ${ref} after \\d`),
    );
    const incident = await bot.feature.incidents.snapshot(Number(ref.slice(4)));
    expect(incident?.incident.resolution).toBe(`${"a".repeat(1999)}\ufffd`);
  });

  it("silence, silences and unsilence: set with a reason, listed, ended; bad input says what is wrong", async () => {
    const set = await run(
      "U0DANA",
      "silence fraud-detector/probe 2h planned maintenance of the model service",
    );
    const silence = /SIL-\d+/.exec(set)?.[0] as string;
    expect(set).toContain(`${silence}: fraud-detector/probe silenced for 2h`);
    const listed = await run("U0GUEST", "silences");
    expect(listed).toContain(silence);
    expect(listed).toContain("planned maintenance of the model service");
    expect(await run("U0GUEST", `unsilence ${silence}`)).toContain(`You may not silence ${silence}`);
    expect(await run("U0DANA", `unsilence ${silence}`)).toContain(`${silence} ended`);
    expect(await run("U0GUEST", "silences")).not.toContain(silence);
    expect(await run("U0DANA", "silence fraud-detector forever oops")).toContain(
      "`forever` is not a duration",
    );
    expect(await run("U0DANA", "silence fraud-detector 2h")).toContain("Say why.");
    expect(await run("U0DANA", "silence nope 2h because")).toContain("There is no model `nope`");
    expect(await run("U0DANA", "silence fraud-detector 90d because")).toContain("at most 30d");
    expect(await run("U0DANA", "unsilence SIL-99999")).toContain("There is no silence SIL-99999.");
  });

  it("silence INC-n mutes that incident and says so in its thread", async () => {
    const ref = await fire();
    const card = await eventually("the card", () => cardOf(bot, CHANNEL, ref));
    expect(await run("U0OLIVIA", `silence ${ref} 30m looking into it`)).toContain(
      `${ref} silenced for 30m (1 open incident muted)`,
    );
    await eventually("the note", () =>
      bot.sandbox.workspace.thread(CHANNEL, card.ts).some((m) => m.text.includes("silenced this alert")),
    );
  });
});
