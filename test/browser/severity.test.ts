/**
 * The card's Severity select as a person uses it on the sandbox page: choosing an option posts it
 * to the bot like Slack would, and the card and thread on the page show the change.
 */
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createIncidentRepository } from "../../src/incidents/index.js";
import { type IncidentBot, startIncidentBot } from "../e2e/incidents-bot.js";
import { card, fireAlert, launchBrowser, newPage, openSandbox, poll } from "./browser.js";

let bot: IncidentBot;
let browser: Browser;
const incidents = () => createIncidentRepository(bot.database.db);

beforeAll(async () => {
  [bot, browser] = await Promise.all([startIncidentBot({ allFeatures: true }), launchBrowser()]);
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await bot?.close();
});

describe("the severity select on the sandbox page", () => {
  it("changes the card's severity and says so in the thread", async () => {
    const ref = await fireAlert(bot.url, "Scorer p99 latency over 300 ms");
    const page = await newPage(browser);
    await openSandbox(page, bot.url, "olivia");
    await page.locator("#sidebar-channels a.channel-link", { hasText: "fraud-alerts" }).click();
    const select = card(page, ref).locator(":scope > .blocks select.bk-select");
    await poll(() => select.inputValue()).toMatch(/:critical$/);
    const id = ref.replace("INC-", "");
    await select.selectOption(`${id}:warning`);
    await poll(() => card(page, ref).locator(":scope > .blocks").textContent()).toContain("warning");
    await poll(() => select.inputValue()).toBe(`${id}:warning`);
    await poll(async () => (await incidents().byId(Number(id)))?.severity).toBe("warning");
    // The thread under the card has the note (the workspace is what the page renders).
    const cardTs = bot.sandbox.workspace
      .messages("fraud-alerts")
      .find((m) => m.text.startsWith(`${ref} [`))?.ts;
    await poll(() =>
      bot.sandbox.workspace
        .thread("fraud-alerts", cardTs ?? "")
        .some((m) =>
          JSON.stringify(m.blocks ?? []).includes("changed the severity from *critical* to *warning*"),
        ),
    ).toBe(true);
    const events = await incidents().timeline(Number(id));
    expect(events.find((e) => e.kind === "severity_changed")).toMatchObject({
      actor: "U0OLIVIA",
      detail: { from: "critical", to: "warning" },
    });
    expect(page.errors).toEqual([]);
  });
});
