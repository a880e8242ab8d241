/**
 * Grouping as a person sees it in the sandbox page: the model's traffic comes in through the API
 * (as a model service sends it), the checks are typed into the page, and every assertion reads
 * the card and thread as the page shows them.
 */
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoBatch, seededRandom, withoutLabel } from "../../src/demo/fraud-traffic.js";
import { API_TOKEN, type IncidentBot, startIncidentBot } from "../e2e/incidents-bot.js";
import { skippingClock } from "../escalation/helpers.js";
import { groupingConfig, partlyDriftedHour, postToModel } from "../helpers/grouping.js";
import { card, launchBrowser, newPage, openSandbox, poll, send } from "./browser.js";

const HOUR = 3_600_000;
const MIN = 60_000;
const clock = skippingClock();
const rand = seededRandom(2717);
let bot: IncidentBot;
let browser: Browser;

beforeAll(async () => {
  [bot, browser] = await Promise.all([
    startIncidentBot({ allFeatures: true, config: groupingConfig(), clock }),
    launchBrowser(),
  ]);
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await bot?.close();
});

async function predictions(rows: unknown[]) {
  expect(await postToModel(bot.url, API_TOKEN, "predictions", rows)).toBe(200);
}

describe("grouping in the browser", () => {
  it("one drift card lists the features; a later one joins its thread; it resolves after two clean runs, through a flap", async () => {
    const page = await newPage(browser);
    await openSandbox(page, bot.url, "olivia");
    await page.locator("#sidebar-channels a.channel-link", { hasText: "fraud-alerts" }).click();
    const start = clock.now().getTime();
    await predictions(
      demoBatch(rand, "ref", 1500, new Date(start - 3 * 24 * HOUR), new Date(start - 2 * 24 * HOUR)).map(
        withoutLabel,
      ),
    );
    // Dana (L2) sets the reference; Olivia (L1) runs the checks.
    await page.selectOption("#user-switcher", "U0DANA");
    await send(page, "/mlops baseline fraud-detector 4d 2d");
    await poll(() => page.locator("#messages").textContent()).toContain("Reference of fraud-detector set");
    await page.selectOption("#user-switcher", "U0OLIVIA");
    const cards = page.locator("#messages > article.msg", {
      has: page.locator(".bk-header", { hasText: /INC-\d+/ }),
    });
    let checks = 0;
    let batch = 0;
    /** An hour passes with `drifted` drifting, then Olivia types the check and waits for its results. */
    async function hourThenCheck(drifted: readonly string[]) {
      if (batch > 0) clock.advance(HOUR + MIN);
      await predictions(partlyDriftedHour(rand, clock.now(), `w${++batch}`, drifted));
      await send(page, "/mlops check fraud-detector");
      checks++;
      await poll(() =>
        page.locator("#messages > article.msg", { hasText: "Check of fraud-detector" }).count(),
      ).toBeGreaterThanOrEqual(checks);
    }

    await hourThenCheck(["amount", "channel"]);
    await poll(() => cards.count()).toBe(1);
    const ref = /INC-\d+/.exec(
      (await cards.first().locator(".bk-header").textContent()) ?? "",
    )?.[0] as string;
    const text = () => card(page, ref).locator(":scope > .blocks").textContent();
    await poll(text).toContain("Findings (2 firing, 0 recovered)");
    expect(await text()).toMatch(/amount.*PSI >= 0\.2/);
    expect(await text()).toContain("channel");

    await hourThenCheck(["amount", "channel", "distance_from_home_km"]);
    await poll(text).toContain("Findings (4 firing, 0 recovered)");
    expect(await text()).toContain("distance_from_home_km");
    const thread = () => card(page, ref).locator("details.thread .replies").textContent();
    await poll(thread).toMatch(/Joined this incident: Drift in distance_from_home_km/);
    expect(await cards.count()).toBe(1);

    await hourThenCheck([]);
    await poll(text).toContain("Findings (0 firing, 4 recovered)");
    // The run's card edits land one after another: the count of clean runs may follow a moment later.
    await poll(text).toContain("clean 1/2 runs");

    await hourThenCheck(["amount"]);
    await poll(text).toContain("Findings (1 firing, 3 recovered)");
    expect(await card(page, ref).locator(".bk-header").textContent()).not.toContain("✅");

    await hourThenCheck([]);
    await poll(text).toContain("Findings (0 firing, 4 recovered)");
    expect(await card(page, ref).locator(".bk-header").textContent()).not.toContain("✅");
    await hourThenCheck([]);
    await poll(() => card(page, ref).locator(".bk-header").textContent()).toContain("✅");
    expect(await text()).toContain("All 4 findings recovered and stayed so for 2 runs");
    await poll(thread).toContain(`${ref} resolved`);
    expect(await cards.count()).toBe(1);
    expect(page.errors).toEqual([]);
    await page.close();
  }, 240_000);
});
