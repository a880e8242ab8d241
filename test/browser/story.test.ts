import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type IncidentBot, startIncidentBot } from "../e2e/incidents-bot.js";
import { driftOnlyConfig } from "../helpers/bot.js";
import { freePort } from "../helpers/process.js";
import { card, cardButton, launchBrowser, newPage, openSandbox, poll, send } from "./browser.js";

let bot: IncidentBot;
let browser: Browser;

beforeAll(async () => {
  [bot, browser] = await Promise.all([
    // The fake model service (started by the demo control) on a free port.
    freePort().then((port) =>
      startIncidentBot({
        allFeatures: true,
        config: driftOnlyConfig({ service_url: `http://127.0.0.1:${port}` }),
      }),
    ),
    launchBrowser(),
  ]);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await bot?.close();
});

describe("the newcomer's story, in the browser only", () => {
  it("traffic drifts → a card → a runbook → escalate → L2 acknowledges → resolved through the modal", async () => {
    const page = await newPage(browser);
    await openSandbox(page, bot.url, "olivia");

    // The demo control streams the model's traffic and injects drift.
    await page.click('button[data-demo="inject"][data-fault="drift"]');
    const status = page.locator("#demo-status");
    await poll(() => status.getAttribute("data-state")).toBe("streaming");
    expect(await status.getAttribute("data-fault")).toBe("drift");

    // An L1 operator checks the model: the drift run opens one incident whose card lists amount.
    await send(page, "/mlops check fraud-detector");
    const driftCard = page
      .locator("#messages > article.msg", { has: page.locator(".bk-header", { hasText: /drift/i }) })
      .first();
    await driftCard.waitFor({ timeout: 30_000 });
    const ref = /INC-\d+/.exec((await driftCard.locator(".bk-header").textContent()) ?? "")?.[0] as string;
    expect(ref).toMatch(/^INC-\d+$/);
    await poll(() => card(page, ref).textContent()).toContain("amount");
    expect(await page.locator("#messages > article.msg .bk-header", { hasText: /INC-\d+/ }).count()).toBe(1);

    // The incident's thread holds its charts, shown inline as Slack shows images: the feature's
    // distributions against the reference, and its drift score over the runs.
    const charts = card(page, ref).locator("details.thread img.file-preview");
    await poll(() => charts.count()).toBeGreaterThanOrEqual(2);
    expect(await charts.first().getAttribute("alt")).toMatch(/^Drift in amount: psi \d/);
    await poll(() =>
      charts.first().evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth),
    ).toBe(960);
    // `CHART_SCREENSHOT=docs/incident-chart.png npx vitest run test/browser/story.test.ts` renews the README's picture.
    await card(page, ref).evaluate((el) => {
      el.querySelector("details.thread")?.setAttribute("open", "");
      el.scrollIntoView({ block: "start" });
    });
    const shot = await card(page, ref).screenshot(
      process.env.CHART_SCREENSHOT ? { path: process.env.CHART_SCREENSHOT } : {},
    );
    expect(shot.length).toBeGreaterThan(10_000);

    // Olivia runs the suggested runbook from the card: its result goes into the thread.
    await cardButton(page, ref, "Run clear-feature-cache").click();
    const thread = () => card(page, ref).locator("details.thread .replies");
    await poll(() => thread().textContent()).toMatch(/clear-feature-cache/);
    await poll(() => thread().textContent()).toMatch(/verif/i);

    // Still drifting: she escalates to the data scientists on duty.
    await cardButton(page, ref, "Escalate to L2").click();
    await poll(() => thread().textContent()).toContain("@ds-oncall");

    // Dana (L2) was paged by DM; she acknowledges there.
    await page.selectOption("#user-switcher", "U0DANA");
    const dm = page.locator("#sidebar-channels a.channel-link", { hasText: "mlops (bot)" });
    await dm.click();
    const pageMessage = page.locator("#messages > article.msg", { hasText: ref }).last();
    await pageMessage.waitFor();
    await pageMessage.locator("button", { hasText: "Acknowledge" }).click();
    await page.locator("#sidebar-channels a.channel-link", { hasText: "fraud-alerts" }).click();
    await poll(() => card(page, ref).locator(".bk-field", { hasText: "State" }).textContent()).toContain(
      "Acknowledged",
    );
    expect(await card(page, ref).locator(".bk-field", { hasText: "Owner" }).textContent()).toContain("dana");

    // She resolves it through the modal.
    await cardButton(page, ref, "Resolve").click();
    const dialog = page.locator("#modal-layer form.modal");
    await dialog
      .locator("textarea")
      .fill("Upstream feed switched currencies; fixed the conversion and retrained");
    await dialog.locator(".modal-submit").click();
    await poll(() => page.locator("#modal-layer").isHidden()).toBe(true);
    await poll(() => card(page, ref).locator(".bk-header").textContent()).toContain("✅");
    await poll(() => thread().textContent()).toContain("Upstream feed switched currencies");

    await page.click('button[data-demo="stop"]');
    // `SANDBOX_SCREENSHOT=docs/sandbox.png npx vitest run test/browser/story.test.ts` renews the README's picture.
    if (process.env.SANDBOX_SCREENSHOT) {
      await card(page, ref).evaluate((el) => el.scrollIntoView({ block: "start" }));
      await page.screenshot({ path: process.env.SANDBOX_SCREENSHOT });
    }
    expect(page.errors).toEqual([]);
    await page.close();
  }, 120_000);
});
