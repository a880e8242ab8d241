/**
 * Grouping through the sandbox and signed Slack payloads: one drift run is one incident card that
 * lists its drifted features; a feature drifting later joins it; recovered features are marked;
 * the incident resolves after `resolve_after` clean runs, and a flap in between does not reopen it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoBatch, seededRandom, withoutLabel } from "../../src/demo/fraud-traffic.js";
import { skippingClock } from "../escalation/helpers.js";
import { startTestBot } from "../helpers/bot.js";
import { groupingConfig, partlyDriftedHour, postToModel } from "../helpers/grouping.js";
import { makeToken } from "../helpers/monitoring.js";
import { eventually, outboxDrained } from "./incidents-bot.js";

type TestBot = Awaited<ReturnType<typeof startTestBot>>;
let bot: TestBot;
let token: string;
const HOUR = 3_600_000;
const MIN = 60_000;
const rand = seededRandom(1717);
const clock = skippingClock();

beforeAll(async () => {
  bot = await startTestBot({ config: groupingConfig(), clock });
  token = await makeToken(bot.database);
});
afterAll(async () => {
  await bot?.close();
});

async function api(path: string, body: unknown) {
  expect(await postToModel(bot.url, token, path, body)).toBe(200);
}

let batch = 0;
/** An hour of traffic ending now in which only `drifted` features drift. */
async function hourOfTraffic(drifted: readonly string[]) {
  await api("predictions", partlyDriftedHour(rand, clock.now(), `b${++batch}`, drifted));
}

const blocksText = (m: { blocks?: unknown } | undefined) => JSON.stringify(m?.blocks ?? []);

describe("one drift run is one incident, through the sandbox", () => {
  it("one card lists the drifted features; a later feature joins its thread; it resolves after the clean runs, a flap in between does not reopen it", async () => {
    const { workspace, driver } = bot.sandbox;
    const where = workspace.channelByName("fraud-alerts")?.id as string;
    const cards = () => workspace.messages(where).filter((m) => /^INC-\d+ \[/.test(m.text));
    let checks = 0;
    /** `/mlops check fraud-detector` as a person types it; waits for its results and deliveries. */
    async function check() {
      checks++;
      expect((await driver.command("U0OLIVIA", where, "check fraud-detector")).status).toBe(200);
      await eventually(
        `check ${checks}'s results`,
        () =>
          workspace.messages(where).filter((m) => (m.text ?? "").includes("Check of fraud-detector"))
            .length >= checks,
        30_000,
      );
      await outboxDrained(bot, 30_000);
    }
    const reference = demoBatch(
      rand,
      "ref",
      1500,
      new Date(clock.now().getTime() - 3 * 24 * HOUR),
      new Date(clock.now().getTime() - 2 * 24 * HOUR),
    );
    await api("predictions", reference.map(withoutLabel));
    await driver.command("U0DANA", where, "baseline fraud-detector 4d 2d");

    // Two features drift: one incident, one card, both listed with their statistic and rule.
    await hourOfTraffic(["amount", "channel"]);
    await check();
    expect(cards()).toHaveLength(1);
    const card = cards()[0] as NonNullable<ReturnType<typeof cards>[number]>;
    const ref = /^INC-\d+/.exec(card.text)?.[0] as string;
    const first = blocksText(workspace.message(where, card.ts));
    expect(first).toContain("*Findings* (2 firing, 0 recovered)");
    expect(first).toMatch(/\*amount\*[^"]*`method` psi[^"]*PSI/);
    expect(first).toContain("*channel*");
    expect(first).not.toContain("distance_from_home_km");

    // A third feature drifts while it is open: it joins in the thread, the card is updated, still
    // one card. Three of five is the dataset drift share (0.5), so dataset drift joins too and
    // heads the card.
    clock.advance(HOUR + MIN);
    await hourOfTraffic(["amount", "channel", "distance_from_home_km"]);
    await check();
    expect(cards()).toHaveLength(1);
    expect(
      workspace
        .thread(where, card.ts)
        .some((m) => m.text.includes("Joined this incident") && m.text.includes("distance_from_home_km")),
    ).toBe(true);
    const joined = blocksText(workspace.message(where, card.ts));
    expect(joined).toContain("*Findings* (4 firing, 0 recovered)");
    expect(joined).toContain("*distance_from_home_km*");
    expect(joined).toMatch(/INC-\d+ · Dataset drift: 60% of features drifted \(\+3 more\)/);
    // Ranked: dataset drift (critical) first, then the features by how far past their threshold.
    const order = ["*dataset*", "*distance_from_home_km*", "*amount*", "*channel*"].map((x) =>
      joined.indexOf(x),
    );
    expect(order.every((at, i) => at > 0 && (i === 0 || at > (order[i - 1] as number)))).toBe(true);

    // The drift stops: every feature is marked recovered, and the incident stays open (1 of 2 clean runs).
    clock.advance(HOUR + MIN);
    await hourOfTraffic([]);
    await check();
    const recovered = blocksText(workspace.message(where, card.ts));
    expect(recovered).toContain("*Findings* (0 firing, 4 recovered)");
    expect(recovered).toContain("clean 1/2 runs");
    expect(workspace.message(where, card.ts)?.text).toMatch(new RegExp(`^${ref} \\[open\\]`));

    // amount flaps back before the incident resolved: it flips on the same card, nothing reopens.
    clock.advance(HOUR + MIN);
    await hourOfTraffic(["amount"]);
    await check();
    expect(cards()).toHaveLength(1);
    const flapped = blocksText(workspace.message(where, card.ts));
    expect(flapped).toContain("*Findings* (1 firing, 3 recovered)");
    expect(flapped).toMatch(/\*amount\*/);
    expect(workspace.message(where, card.ts)?.text).toMatch(new RegExp(`^${ref} \\[open\\]`));
    expect(workspace.thread(where, card.ts).some((m) => m.text.includes("resolved*"))).toBe(false);

    // Two clean runs in a row: the incident resolves by itself, on the same card.
    clock.advance(HOUR + MIN);
    await hourOfTraffic([]);
    await check();
    expect(workspace.message(where, card.ts)?.text).toMatch(new RegExp(`^${ref} \\[open\\]`));
    clock.advance(HOUR + MIN);
    await hourOfTraffic([]);
    await check();
    expect(workspace.message(where, card.ts)?.text).toMatch(new RegExp(`^${ref} \\[resolved\\]`));
    expect(blocksText(workspace.message(where, card.ts))).toContain("All 4 findings recovered");
    expect(workspace.thread(where, card.ts).filter((m) => m.text.includes(`${ref} resolved*`))).toHaveLength(
      1,
    );
    expect(cards()).toHaveLength(1);

    // The timeline keeps each feature's story with its numbers.
    const res = await fetch(`${bot.url}/api/v1/incidents/${ref}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const body = (await res.json()) as {
      timeline: { kind: string; detail: Record<string, unknown> }[];
      members: { subject: string; state: string; cleanRuns: number; flaps: number }[];
    };
    expect(body.members.map((m) => [m.subject, m.state, m.cleanRuns, m.flaps]).sort()).toEqual([
      ["amount", "recovered", 2, 1],
      ["channel", "recovered", 4, 0],
      ["dataset", "recovered", 4, 0],
      ["distance_from_home_km", "recovered", 4, 0],
    ]);
    const story = body.timeline
      .filter((e) =>
        ["opened", "member_joined", "alert_resolved", "member_fired_again", "resolved"].includes(e.kind),
      )
      .map((e) => `${e.kind}:${String(e.detail.subject ?? "")}`);
    expect(story.filter((s) => s.startsWith("member_joined:"))).toEqual(
      expect.arrayContaining(["member_joined:distance_from_home_km"]),
    );
    expect(story).toContain("member_fired_again:amount");
    expect(story.filter((s) => s.startsWith("alert_resolved:")).sort()).toEqual([
      "alert_resolved:amount",
      "alert_resolved:amount",
      "alert_resolved:channel",
      "alert_resolved:dataset",
      "alert_resolved:distance_from_home_km",
    ]);
    expect(story.at(-1)).toBe("resolved:");
    const flap = body.timeline.find((e) => e.kind === "member_fired_again");
    expect(flap?.detail.metrics).toMatchObject({ method: "psi", threshold: 0.2 });
  }, 240_000);
});
