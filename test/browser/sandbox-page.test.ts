import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type IncidentBot, startIncidentBot } from "../e2e/incidents-bot.js";
import { card, cardButton, fireAlert, launchBrowser, newPage, openSandbox, poll, send } from "./browser.js";

let bot: IncidentBot;
let browser: Browser;
let ref: string;
const XSS = 'Latency <img src=x onerror="window.__xss=1"> & <script>window.__xss=2</script> high';

beforeAll(async () => {
  [bot, browser] = await Promise.all([startIncidentBot({ allFeatures: true }), launchBrowser()]);
  ref = await fireAlert(bot.url, XSS);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await bot?.close();
});

describe("the sandbox page", () => {
  it("shows the seeded channels and an incident card with its buttons, the card's text escaped", async () => {
    const page = await newPage(browser);
    await openSandbox(page, bot.url);
    expect(await page.locator(".channel-link").allTextContents()).toEqual(
      expect.arrayContaining([
        expect.stringContaining("# fraud-alerts"),
        expect.stringContaining("# mlops-alerts"),
      ]),
    );
    expect(await page.textContent("#channel-title")).toBe("#fraud-alerts");
    const incident = card(page, ref);
    await incident.waitFor();
    await poll(() => incident.locator(".bk-header").textContent()).toContain(`${ref} · Latency`);
    expect(await incident.textContent()).toContain('<img src=x onerror="window.__xss=1">');
    expect(await page.evaluate(() => (globalThis as { __xss?: number }).__xss)).toBeUndefined();
    expect(await incident.locator("img").count()).toBe(0);
    const ack = incident.locator("button", { hasText: "Acknowledge" });
    expect(await ack.getAttribute("class")).toContain("primary");
    expect(await incident.locator("button", { hasText: "Resolve" }).count()).toBe(1);
    expect(await incident.locator(".bk-fields .bk-field").count()).toBeGreaterThanOrEqual(4);
    expect(page.errors).toEqual([]);
    await page.close();
  });

  it("a slash command typed in the box is answered for the typist only; a plain message is posted as text", async () => {
    const page = await newPage(browser);
    await openSandbox(page, bot.url, "dana");
    await send(page, "/mlops whoami");
    const reply = page.locator("article.msg.ephemeral", { hasText: "ds-oncall" });
    await reply.waitFor();
    expect(await reply.textContent()).toContain("Only visible to you");
    await send(page, "looking at <b>it</b> now");
    await page.locator("article.msg", { hasText: "looking at <b>it</b> now" }).waitFor();
    expect(await page.locator("article.msg b").count()).toBe(0);

    const other = await newPage(browser);
    await openSandbox(other, bot.url, "omar");
    await other.locator("article.msg", { hasText: "looking at <b>it</b> now" }).waitFor();
    expect(await other.locator("article.msg.ephemeral", { hasText: "ds-oncall" }).count()).toBe(0);
    await send(other, "/deploy now");
    await poll(() => other.textContent("#composer-error")).toContain("/deploy is not a command here");
    await Promise.all([page.close(), other.close()]);
  });

  it("switching to someone without the permission shows their refusal, to them only, and changes nothing", async () => {
    const page = await newPage(browser);
    await openSandbox(page, bot.url, "guest");
    const incident = card(page, ref);
    await incident.locator("button", { hasText: "Acknowledge" }).click();
    const refusal = page.locator("article.msg.ephemeral", { hasText: `You may not acknowledge ${ref}` });
    await refusal.waitFor();
    expect(await incident.locator(".bk-field", { hasText: "State" }).textContent()).toContain("Open");

    await page.selectOption("#user-switcher", "U0OLIVIA");
    await poll(() => refusal.count()).toBe(0);
    expect(new URL(page.url()).searchParams.get("as")).toBe("olivia");
    await page.close();
  });

  it("a button click reaches the bot and the card updates live", async () => {
    const page = await newPage(browser);
    await openSandbox(page, bot.url, "olivia");
    const incident = card(page, ref);
    await incident.locator("button", { hasText: "Acknowledge" }).click();
    await poll(() => card(page, ref).locator(".bk-field", { hasText: "State" }).textContent()).toContain(
      "Acknowledged",
    );
    expect(await card(page, ref).locator(".bk-field", { hasText: "Owner" }).textContent()).toContain(
      "olivia",
    );
    expect(page.errors).toEqual([]);
    await page.close();
  });

  it("Resolve opens the bot's modal; an empty submit shows the bot's error, a note resolves the incident", async () => {
    const page = await newPage(browser);
    await openSandbox(page, bot.url, "olivia");
    await cardButton(page, ref, "Resolve").click();
    const dialog = page.locator("#modal-layer form.modal");
    await dialog.waitFor();
    expect(await dialog.locator(".modal-title").textContent()).toBe(`Resolve ${ref}`);
    await dialog.locator("textarea").fill("   ");
    await dialog.locator("textarea").evaluate((el) => el.removeAttribute("required"));
    await dialog.locator(".modal-submit").click();
    await poll(() => dialog.locator(".bk-error").first().textContent()).toBe("Say what fixed it.");
    await dialog.locator("textarea").fill("Restarted the scorer; <latency> back to normal");
    await dialog.locator(".modal-submit").click();
    await poll(() => page.locator("#modal-layer").isHidden()).toBe(true);
    await poll(() => card(page, ref).locator(".bk-header").textContent()).toContain("✅");
    expect(await card(page, ref).textContent()).toContain("Restarted the scorer; <latency> back to normal");
    const thread = card(page, ref).locator("details.thread");
    await poll(() => thread.textContent()).toContain("resolved");
    expect(page.errors).toEqual([]);
    await page.close();
  });
});
