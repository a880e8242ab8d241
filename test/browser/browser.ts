import { existsSync } from "node:fs";
import { type Browser, chromium, type Page } from "playwright-core";
import { expect } from "vitest";
import { API_TOKEN } from "../e2e/incidents-bot.js";

/** Debian's Chromium (`.ci/run` installs it when missing); playwright-core downloads no browser. */
export const CHROMIUM = "/usr/bin/chromium";

/** Headless Chromium; `--no-sandbox` because tests run as root in CI. */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`browser tests need Chromium at ${CHROMIUM}: apt-get install -y chromium`);
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
}

/** A page that records script errors, so a test can assert the page ran cleanly. */
export async function newPage(browser: Browser): Promise<Page & { errors: string[] }> {
  const page = Object.assign(await browser.newPage({ viewport: { width: 1280, height: 900 } }), {
    errors: [] as string[],
  });
  page.on("pageerror", (err) => page.errors.push(err.message));
  page.setDefaultTimeout(15_000);
  return page;
}

/** Opens the sandbox page as a seeded person and waits until its event stream is live. */
export async function openSandbox(page: Page, url: string, as = "olivia"): Promise<void> {
  await page.goto(`${url}/sandbox?as=${as}`);
  await poll(() => page.textContent("#live-state")).toBe("live");
  await page.waitForSelector(".channel-link");
}

/** Types into the message box and sends. */
export async function send(page: Page, text: string): Promise<void> {
  await page.fill("#composer textarea", text);
  await page.press("#composer textarea", "Enter");
}

/** Opens an incident through the Alertmanager webhook (firing), as a monitoring stack would. */
export async function fireAlert(url: string, summary: string, alertname = "FraudScorerLatencyHigh") {
  const labels = { alertname, model: "fraud-detector", severity: "critical" };
  const res = await fetch(`${url}/api/v1/alertmanager`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${API_TOKEN}` },
    body: JSON.stringify({
      receiver: "mlops-bot",
      status: "firing",
      version: "4",
      groupKey: `{}:{alertname="${alertname}"}`,
      alerts: [
        {
          status: "firing",
          labels,
          annotations: { summary, value: "0.812" },
          startsAt: new Date().toISOString(),
          endsAt: "0001-01-01T00:00:00Z",
        },
      ],
      groupLabels: { alertname },
      commonLabels: labels,
      commonAnnotations: {},
      externalURL: "http://alertmanager.local",
    }),
  });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { incidents: { ref: string }[] };
  return body.incidents[0]?.ref as string;
}

/** The card (top-level message) of an incident on the page. */
export function card(page: Page, ref: string) {
  return page.locator("#messages > article.msg", { hasText: `${ref} ·` }).first();
}

/** `expect.poll` with room for the outbox's pace (one Slack write a second per channel). */
export function poll<T>(check: () => T | Promise<T>) {
  return expect.poll(check, { timeout: 15_000, interval: 50 });
}

/** A button of the card itself (not of a message in its thread), by its exact label. */
export function cardButton(page: Page, ref: string, label: string) {
  return card(page, ref).locator(":scope > .blocks").getByRole("button", { name: label, exact: true });
}
