import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiTokenService } from "../../src/api-tokens/index.js";
import { demoBatch, seededRandom, withoutLabel } from "../../src/demo/fraud-traffic.js";
import { systemClock } from "../../src/shared/clock.js";
import { formatDuration } from "../../src/shared/duration.js";
import { API_TOKEN, eventually, type IncidentBot, startIncidentBot } from "../e2e/incidents-bot.js";
import { driftOnlyConfig, oneIncidentPerFinding } from "../helpers/bot.js";

let bot: IncidentBot;
const HOUR = 3_600_000;
const rand = seededRandom(8008);

async function post(path: string, body: unknown) {
  const res = await fetch(`${bot.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${API_TOKEN}` },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

function get(path: string, headers: Record<string, string> = {}) {
  return fetch(`${bot.url}${path}`, { headers, redirect: "manual" });
}

async function login(token: string): Promise<Response> {
  return fetch(`${bot.url}/incidents/login`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ token, next: "/incidents/INC-1" }).toString(),
    redirect: "manual",
  });
}

function cookieOf(res: Response): string {
  return (res.headers.get("set-cookie") ?? "").split(";")[0] as string;
}

beforeAll(async () => {
  bot = await startIncidentBot({ allFeatures: true, config: oneIncidentPerFinding(driftOnlyConfig()) });
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
  await post("/api/v1/models/fraud-detector/predictions", reference.map(withoutLabel));
  await driver.command("U0DANA", where, "baseline fraud-detector 4d 2d");
  // A normal run before the drift, so the chart has a before and an after.
  await post(
    "/api/v1/models/fraud-detector/predictions",
    demoBatch(rand, "calm", 300, new Date(now - 20 * HOUR), new Date(now - 18 * HOUR)).map(withoutLabel),
  );
  const before = workspace.messages(where).length;
  await driver.command("U0OLIVIA", where, "check fraud-detector");
  // the check answers at once and posts its table when done
  await eventually("the first check's results", () => workspace.messages(where).length > before, 20_000);
  await post(
    "/api/v1/models/fraud-detector/predictions",
    demoBatch(rand, "live", 600, new Date(now - HOUR), new Date(now), "drift").map(withoutLabel),
  );
  await driver.command("U0OLIVIA", where, "check fraud-detector");
  await eventually(
    "the drift incident for amount",
    async () => {
      const list = (await (
        await get("/api/v1/incidents?state=all", { authorization: `Bearer ${API_TOKEN}` })
      ).json()) as { incidents: { title: string }[] };
      return list.incidents.some((i) => i.title.startsWith("Drift in amount"));
    },
    20_000,
  );
}, 60_000);

afterAll(async () => {
  await bot?.close();
});

describe("the incident log's auth", () => {
  it("without a session the pages send the browser to sign in; a wrong bearer token is a 401", async () => {
    const list = await get("/incidents");
    expect(list.status).toBe(303);
    expect(list.headers.get("location")).toBe("/incidents/login?next=%2Fincidents");
    const detail = await get("/incidents/INC-1");
    expect(detail.headers.get("location")).toBe("/incidents/login?next=%2Fincidents%2FINC-1");
    const bearer = await get("/incidents", { authorization: "Bearer not-a-token" });
    expect(bearer.status).toBe(401);
    expect(await bearer.text()).not.toContain("INC-");
    expect((await get("/incidents/login")).status).toBe(200);
  });

  it("a wrong token at sign-in is refused with no cookie; a right one sets an HttpOnly SameSite=Strict cookie without the token", async () => {
    const wrong = await login("mlops_wrong");
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("set-cookie")).toBeNull();
    expect(await wrong.text()).toContain("That token is not valid.");

    const right = await login(API_TOKEN);
    expect(right.status).toBe(303);
    expect(right.headers.get("location")).toBe("/incidents/INC-1");
    const setCookie = right.headers.get("set-cookie") ?? "";
    expect(setCookie).toMatch(/^mlops_session=v2\./);
    expect(setCookie).toContain("HttpOnly");
    expect(setCookie).toContain("SameSite=Strict");
    expect(setCookie).toContain("Path=/incidents");
    expect(setCookie).not.toContain(API_TOKEN);
    const page = await get("/incidents", { cookie: cookieOf(right) });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toContain("default-src 'none'");
  });

  it("sign-in never redirects off the incident log", async () => {
    const res = await fetch(`${bot.url}/incidents/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: API_TOKEN, next: "https://evil.example/" }).toString(),
      redirect: "manual",
    });
    expect(res.headers.get("location")).toBe("/incidents");
  });

  it("revoking the token ends the sessions made with it", async () => {
    const tokens = createApiTokenService(bot.database.db, systemClock);
    const token = await tokens.create("laptop");
    const cookie = cookieOf(await login(token));
    expect((await get("/incidents", { cookie })).status).toBe(200);
    await tokens.revoke("laptop");
    expect((await get("/incidents", { cookie })).status).toBe(303);
  });
});

describe("the incident log's pages", () => {
  const auth = { authorization: `Bearer ${API_TOKEN}` };

  it("lists incidents and filters by state, model, monitor and time range", async () => {
    const all = await (await get("/incidents?state=all", auth)).text();
    expect(all).toContain("Drift in amount");
    expect(all).toMatch(/<tr data-ref="INC-\d+">/);
    const byMonitor = await (await get("/incidents?state=all&monitor=probe", auth)).text();
    expect(byMonitor).toContain("No incidents match.");
    const byModel = await (await get("/incidents?state=all&model=fraud-detector&monitor=drift", auth)).text();
    expect(byModel).toContain("Drift in amount");
    const resolved = await (await get("/incidents?state=resolved", auth)).text();
    expect(resolved).toContain("No incidents match.");
    const today = new Date().toISOString().slice(0, 10);
    expect(await (await get(`/incidents?state=all&from=${today}&to=${today}`, auth)).text()).toContain(
      "Drift in amount",
    );
    expect(await (await get("/incidents?state=all&to=2020-01-01", auth)).text()).toContain(
      "No incidents match.",
    );
  });

  it("the list carries the response table of the incidents it covers, as computed here from their timelines", async () => {
    const { workspace, driver } = bot.sandbox;
    const where = workspace.channelByName("fraud-alerts")?.id as string;
    const list = (await (await get("/api/v1/incidents?state=all", auth)).json()) as {
      incidents: { ref: string; title: string }[];
    };
    const amount = list.incidents.find((i) => i.title.startsWith("Drift in amount"))?.ref as string;
    await driver.command("U0DANA", where, `ack ${amount}`);
    const detect: number[] = [];
    const ack: number[] = [];
    for (const { ref } of list.incidents) {
      const { incident, timeline } = (await (await get(`/api/v1/incidents/${ref}`, auth)).json()) as {
        incident: { openedAt: string; acknowledgedAt: string | null };
        timeline: { kind: string; detail: { dataFrom?: string } }[];
      };
      const from = timeline.find((e) => e.kind === "opened")?.detail.dataFrom;
      if (from) detect.push(Date.parse(incident.openedAt) - Date.parse(from));
      if (incident.acknowledgedAt)
        ack.push(Date.parse(incident.acknowledgedAt) - Date.parse(incident.openedAt));
    }
    // Every drift incident came from a monitor window; one was acknowledged.
    expect(detect).toHaveLength(list.incidents.length);
    expect(ack).toHaveLength(1);
    const sorted = [...detect].sort((a, b) => a - b);
    const at = (q: number) => {
      const r = (sorted.length - 1) * q;
      const lo = sorted[Math.floor(r)] as number;
      return lo + ((sorted[Math.ceil(r)] as number) - lo) * (r - Math.floor(r));
    };
    const page = await (await get("/incidents?state=all", auth)).text();
    const row = (stage: string) => page.slice(page.indexOf(`<tr data-stage="${stage}">`)).split("</tr>")[0];
    expect(row("detect")).toBe(
      `<tr data-stage="detect"><th>Time to detect</th><td class="num">${detect.length}</td><td class="num">${formatDuration(at(0.5))}</td><td class="num">${formatDuration(at(0.9))}</td><td class="num">${formatDuration(detect.reduce((a, b) => a + b, 0) / detect.length)}</td>`,
    );
    expect(row("acknowledge")).toContain(
      `<td class="num">1</td><td class="num">${formatDuration(ack[0] as number)}</td>`,
    );
    expect(row("resolve")).toContain('<td class="num">0</td><td class="num">—</td>');
    expect(page).toContain("No runbook ran on these incidents.");
    // The table follows the filters: no probe incidents, so no numbers.
    const probe = await (await get("/incidents?state=all&monitor=probe", auth)).text();
    expect(probe.slice(probe.indexOf('<tr data-stage="detect">')).split("</tr>")[0]).toContain(
      '<td class="num">0</td>',
    );
  });

  it("a bad filter is a 400 naming it", async () => {
    const bad = await get("/incidents?state=sleeping", auth);
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain("state");
    expect((await get("/incidents?from=yesterday", auth)).status).toBe(400);
    expect((await get("/incidents/INC-999999", auth)).status).toBe(404);
    expect((await get("/incidents/nonsense", auth)).status).toBe(400);
  });

  it("one incident shows what fired with its numbers, a chart of the metric over the runs, and the timeline", async () => {
    const list = (await (await get("/api/v1/incidents?state=all", auth)).json()) as {
      incidents: { ref: string; title: string }[];
    };
    const ref = list.incidents.find((i) => i.title.startsWith("Drift in amount"))?.ref as string;
    const page = await (await get(`/incidents/${ref}`, auth)).text();
    expect(page).toContain(`${ref} · Drift in amount`);
    expect(page).toContain("Rule:");
    expect(page).toContain("<th>threshold</th>");
    expect(page).toContain("The metric: psi of amount");
    expect(page).toContain('<svg class="chart"');
    // two checks: a calm run and a drifted one
    expect(page.match(/<circle cx=/g)?.length).toBeGreaterThanOrEqual(2);
    expect(page).toContain('<tr class="event event-opened">');
    // The timeline reads like the thread: words and formatted numbers, never an event's raw JSON.
    expect(page).toMatch(
      /Opened: Drift in amount: psi [\d.]+\. Rule: PSI &gt;= 0\.2 \(fixed threshold\)\. Numbers: value [\d.]+ · method psi/,
    );
    const timeline = page.slice(page.indexOf('<table class="timeline">'));
    expect(timeline).not.toContain("{&quot;");
    expect(timeline).not.toContain('{"');
  });
});

// Last in the file: it uses up this address's budget of bad tokens.
describe("guessing tokens at the incident log", () => {
  it("counts against the API's budget: after 20 bad tokens more get 429 with Retry-After, the right one still signs in", async () => {
    // earlier tests in this file spent a few of the 20 already
    const answers: number[] = [];
    for (let i = 0; i < 20; i++) answers.push((await login(`mlops_guess_${i}`)).status);
    expect(answers[0]).toBe(401);
    expect(answers.at(-1)).toBe(429);
    const blocked = await login("mlops_one_more_guess");
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(blocked.headers.get("set-cookie")).toBeNull();
    expect((await get("/api/v1/incidents", { authorization: "Bearer mlops_guess_x" })).status).toBe(429);
    expect((await get("/incidents", { authorization: "Bearer mlops_guess_x" })).status).toBe(429);
    // A valid token is never refused by the limiter: one client's guessing locks out nobody.
    const right = await login(API_TOKEN);
    expect(right.status).toBe(303);
    expect(right.headers.get("set-cookie")).toContain("mlops_session=");
    expect((await get("/api/v1/incidents", { authorization: `Bearer ${API_TOKEN}` })).status).toBe(200);
    expect((await get("/incidents", { authorization: `Bearer ${API_TOKEN}` })).status).toBe(200);
  });
});
