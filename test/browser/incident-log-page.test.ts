import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_TOKEN, type IncidentBot, startIncidentBot } from "../e2e/incidents-bot.js";
import { fireAlert, launchBrowser, newPage, openSandbox } from "./browser.js";

let bot: IncidentBot;
let browser: Browser;
let latency: string;
let lag: string;

beforeAll(async () => {
  [bot, browser] = await Promise.all([startIncidentBot({ allFeatures: true }), launchBrowser()]);
  latency = await fireAlert(bot.url, "p99 latency <above> 300 ms");
  lag = await fireAlert(bot.url, "Feature store lag", "FeatureStoreLag");
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await bot?.close();
});

describe("the incident log in a browser", () => {
  it("sends a visitor without a session to sign in; a wrong token is refused, the right one shows the list", async () => {
    const page = await newPage(browser);
    await page.goto(`${bot.url}/incidents/${latency}`);
    expect(new URL(page.url()).pathname).toBe("/incidents/login");
    await page.fill('input[name="token"]', "mlops_not_a_token");
    await page.click('button[type="submit"]');
    expect(await page.textContent(".error")).toBe("That token is not valid.");
    expect((await page.context().cookies()).length).toBe(0);

    await page.fill('input[name="token"]', API_TOKEN);
    await page.click('button[type="submit"]');
    expect(new URL(page.url()).pathname).toBe(`/incidents/${latency}`);
    const [cookie] = await page.context().cookies();
    expect(cookie).toMatchObject({
      name: "mlops_session",
      httpOnly: true,
      sameSite: "Strict",
      path: "/incidents",
    });
    expect(cookie?.value).not.toContain(API_TOKEN);
    expect(await page.textContent("h1")).toBe(`${latency} · p99 latency <above> 300 ms`);
    expect(await page.locator(".timeline tr.event-opened").count()).toBe(1);

    await page.click("text=← All incidents");
    await page.waitForSelector("table.incidents");
    expect(await page.locator("table.incidents tbody tr").count()).toBe(2);
    await page.selectOption("#f-monitor", { value: "" });
    await page.fill("#f-to", "2020-01-01");
    await page.click('form.filters button[type="submit"]');
    await page.waitForSelector("text=No incidents match.");
    expect(new URL(page.url()).searchParams.get("to")).toBe("2020-01-01");

    await page.click("text=Sign out");
    expect(new URL(page.url()).pathname).toBe("/incidents/login");
    await page.goto(`${bot.url}/incidents`);
    expect(new URL(page.url()).pathname).toBe("/incidents/login");
    expect(page.errors).toEqual([]);
    await page.close();
  });

  it("the sandbox page's link signs the browser in locally and opens the list", async () => {
    const page = await newPage(browser);
    await openSandbox(page, bot.url);
    const [log] = await Promise.all([page.context().waitForEvent("page"), page.click("a.incident-log-link")]);
    await log.waitForSelector("table.incidents");
    expect(await log.locator("table.incidents tbody tr").allTextContents()).toEqual([
      expect.stringContaining(lag),
      expect.stringContaining(latency),
    ]);
    await page.context().close();
  });
});
