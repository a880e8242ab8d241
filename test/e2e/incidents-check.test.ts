import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoBatch, seededRandom, withoutLabel } from "../../src/demo/fraud-traffic.js";
import { driftOnlyConfig, startTestBot } from "../helpers/bot.js";
import { makeToken } from "../helpers/monitoring.js";
import { buttonIds, eventually } from "./incidents-bot.js";

type TestBot = Awaited<ReturnType<typeof startTestBot>>;
let bot: TestBot;
let token: string;
const HOUR = 3_600_000;
const rand = seededRandom(4004);

beforeAll(async () => {
  // Every shipped feature: monitoring hands its findings to the incidents feature's sink.
  bot = await startTestBot({ config: driftOnlyConfig() });
  token = await makeToken(bot.database);
});
afterAll(async () => {
  await bot?.close();
});

async function api(path: string, body: unknown) {
  const res = await fetch(`${bot.url}/api/v1/models/fraud-detector/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
}

const blocksText = (m: { blocks?: unknown } | undefined) => JSON.stringify(m?.blocks ?? []);

describe("drifted demo traffic to a resolved incident, through the sandbox", () => {
  it("check → one card for the drift run → Acknowledge → check again into the thread → Resolve with a note", async () => {
    const { workspace, driver } = bot.sandbox;
    const where = workspace.channelByName("fraud-alerts")?.id as string;
    const now = Date.now();
    const reference = demoBatch(
      rand,
      "ref",
      1500,
      new Date(now - 3 * 24 * HOUR),
      new Date(now - 2 * 24 * HOUR),
    );
    await api("predictions", reference.map(withoutLabel));
    await api(
      "labels",
      reference.map((r) => ({ id: r.id, label: r.label })),
    );
    await driver.command("U0DANA", where, "baseline fraud-detector 4d 2d");
    await api(
      "predictions",
      demoBatch(rand, "live", 400, new Date(now - HOUR), new Date(now), "drift").map(withoutLabel),
    );

    expect((await driver.command("U0OLIVIA", where, "check fraud-detector")).status).toBe(200);
    const card = await eventually(
      "the drift card listing amount",
      () =>
        workspace
          .messages(where)
          .find((m) => /^INC-\d+ \[open\] /.test(m.text) && blocksText(m).includes("*amount*")),
      20_000,
    ).catch((err: Error) => {
      throw new Error(
        `${err.message}; the channel has: ${workspace
          .messages(where)
          .map((m) => m.text.slice(0, 120))
          .join(" | ")}`,
      );
    });
    // One card for the problem: the drift run's features are listed on it, not carded apart.
    expect(workspace.messages(where).filter((m) => /^INC-\d+ \[/.test(m.text))).toHaveLength(1);
    // The card's own buttons, in order (suggested runbooks follow them in a block of their own).
    expect(buttonIds(card).filter((id) => !id.startsWith("incident_runbook:"))).toEqual([
      "incident_acknowledge",
      "incident_escalate",
      "incident_take",
      "incident_update",
      "incident_resolve",
      "incident_silence_1h",
      "incident_severity",
    ]);
    expect(blocksText(card)).toContain("PSI &gt;= 0.2 (fixed threshold)");
    const ref = /^INC-\d+/.exec(card.text)?.[0] as string;

    await driver.clickButton("U0DANA", card, "incident_acknowledge");
    await eventually("the acknowledged card", () =>
      blocksText(workspace.message(where, card.ts)).includes("Acknowledged by <@U0DANA>"),
    );

    // The same alert fires again on the next check: a reply in the thread, still one card.
    expect((await driver.command("U0OLIVIA", where, "check fraud-detector")).status).toBe(200);
    await eventually(
      "the repeat in the thread",
      () => workspace.thread(where, card.ts).some((m) => m.text.includes("Fired again")),
      20_000,
    );
    expect(workspace.messages(where).filter((m) => m.text.startsWith(`${ref} [`))).toHaveLength(1);

    await driver.clickButton("U0OLIVIA", workspace.message(where, card.ts) ?? card, "incident_resolve");
    const view = await eventually("the resolve modal", () => workspace.views("U0OLIVIA").find((v) => v.open));
    await driver.submitView("U0OLIVIA", view.id, {
      resolution_note: "Re-trained on the new amount distribution",
    });
    await eventually("the resolved card", () =>
      blocksText(workspace.message(where, card.ts)).includes("Resolved by <@U0OLIVIA>"),
    );
    await eventually("the summary", () =>
      workspace
        .thread(where, card.ts)
        .some((m) => m.text.includes("Re-trained on the new amount distribution")),
    );
    // The response metrics: one acknowledgement and one resolution of the drift incident, at
    // the severity its card shows (dataset drift, when it is among the findings, makes it critical).
    const severity = /\*Severity\*\\n:\w+: (\w+)/.exec(blocksText(workspace.message(where, card.ts)))?.[1];
    expect(severity).toMatch(/^(warning|critical)$/);
    const metrics = await (await fetch(`${bot.url}/metrics`)).text();
    for (const stage of ["acknowledge", "resolve"])
      expect(metrics).toMatch(
        new RegExp(
          `^mlops_incident_stage_seconds_count\\{stage="${stage}",model="fraud-detector",monitor="drift",severity="${severity}"\\} 1$`,
          "m",
        ),
      );
    expect(metrics).not.toContain('mlops_incident_stage_seconds_count{stage="mitigate"');
  });
});
