import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configSchema } from "../../src/config/index.js";
import { resultRows } from "../../src/db/client.js";
import { oneModelConfigInput, startTestBot } from "../helpers/bot.js";
import { makeToken, normal, seeded } from "../helpers/monitoring.js";

type TestBot = Awaited<ReturnType<typeof startTestBot>>;
let bot: TestBot;
let token: string;
const HOUR = 3_600_000;
const rand = seeded(2029);
const n = () => normal(rand);
const MODELS = ["sensors-null", "sensors-broken"] as const;

beforeAll(async () => {
  // The shipped runbooks name fraud-detector, so it stays; the multivariate models sit beside it.
  const input = oneModelConfigInput();
  for (const slug of MODELS)
    (input.models as Record<string, unknown>[]).push({
      slug,
      name: slug,
      task: "binary_classification",
      owners: "fraud-ml",
      alert_channel: "#fraud-alerts",
      features: [
        { name: "x1", type: "numeric" },
        { name: "x2", type: "numeric" },
        { name: "x3", type: "numeric" },
        { name: "region", type: "categorical" },
      ],
      monitors: { multivariate: { window: "1h" }, drift: { window: "1h" } },
    });
  bot = await startTestBot({ config: configSchema.parse(input) });
  token = await makeToken(bot.database);
});
afterAll(async () => {
  await bot?.close();
});

async function api(slug: string, path: string, body: unknown) {
  const res = await fetch(`${bot.url}/api/v1/models/${slug}/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/**
 * `count` rows over [from, from + span): x2 follows x1 closely (or, `broken`, is drawn on its own
 * with the same marginal N(0, 1.0025)), x3 and region independent of both.
 */
function rows(prefix: string, count: number, from: number, span: number, broken: boolean) {
  return Array.from({ length: count }, (_, i) => {
    const x1 = n();
    const x2 = broken ? Math.sqrt(1.0025) * n() : x1 + 0.05 * n();
    return {
      id: `${prefix}-${i}`,
      ts: new Date(from + Math.floor((i * span) / count)).toISOString(),
      model_version: "v1",
      prediction: x1 > 0 ? "1" : "0",
      confidence: 0.9,
      features: { x1, x2, x3: n(), region: ["north", "south", "east"][Math.floor(rand() * 3)] },
    };
  });
}

async function check(slug: string): Promise<string> {
  const where = bot.sandbox.workspace.channelByName("fraud-alerts")?.id as string;
  const before = bot.sandbox.workspace.messages(where).length;
  const res = await bot.sandbox.driver.command("U0OLIVIA", where, `check ${slug}`);
  expect(res.status).toBe(200);
  const started = Date.now();
  while (Date.now() - started < 20_000) {
    const m = bot.sandbox.workspace
      .messages(where)
      .slice(before)
      .find((msg) => (msg.text ?? "").includes(`Check of ${slug}`));
    if (m) return m.text ?? "";
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no check message for ${slug}`);
}

async function baseline(slug: string, now: number) {
  const res = await api(slug, "reference", {
    from: new Date(now - 4 * 24 * HOUR).toISOString(),
    to: new Date(now - 2 * 24 * HOUR).toISOString(),
  });
  expect(res.status).toBe(201);
}

/** The registered slot of the reconstruction error, read from the model registry's table. */
async function errorSlot(slug: string): Promise<number | undefined> {
  const [m] = resultRows<{ features: { name: string; slot: number; derived?: boolean }[] }>(
    await bot.database.db.execute(sql`select features from models where slug = ${slug}`),
  );
  return m?.features.find((f) => f.derived && f.name === "(reconstruction_error)")?.slot;
}

async function scores(prefix: string): Promise<(number | null)[]> {
  const slot = Number(await errorSlot(MODELS[0]));
  return resultRows<{ e: number | null }>(
    await bot.database.db.execute(
      sql`select num[${sql.raw(String(slot))}] as e from predictions where request_id like ${`${prefix}-%`}`,
    ),
  ).map((r) => r.e);
}

describe("multivariate drift through the bot's API and /mlops check", () => {
  const now = Date.now();

  it("rows before a baseline get no score; after it, each ingested row is scored", async () => {
    for (const slug of MODELS) {
      const ref = rows(`${slug}-ref`, 1500, now - 3 * 24 * HOUR, 24 * HOUR, false);
      expect((await api(slug, "predictions", ref)).body).toEqual({ received: 1500, stored: 1500 });
      await baseline(slug, now);
    }
    expect(await errorSlot(MODELS[0])).toBeGreaterThan(3);
    expect((await scores(`${MODELS[0]}-ref`)).every((e) => e === null)).toBe(true);

    const live = rows(`${MODELS[0]}-live`, 400, now - HOUR, HOUR - 60_000, false);
    expect((await api(MODELS[0], "predictions", live)).body).toEqual({ received: 400, stored: 400 });
    const scored = await scores(`${MODELS[0]}-live`);
    expect(scored).toHaveLength(400);
    expect(scored.every((e) => typeof e === "number" && e >= 0)).toBe(true);
  });

  it("rows from the reference's distribution give no multivariate finding", async () => {
    const text = await check(MODELS[0]);
    expect(text).toMatch(
      /multivariate: ok — \d+ rows, \d+ scored, reconstruction error [\d.]+ \(band [\d.]+–[\d.]+\)/,
    );
    expect(text).not.toContain("PCA reconstruction error");
  });

  it("a broken correlation with unchanged marginals gives a finding naming x1 and x2, and no univariate drift", async () => {
    const slug = MODELS[1];
    const live = rows(`${slug}-live`, 400, now - HOUR, HOUR - 60_000, true);
    expect((await api(slug, "predictions", live)).body).toEqual({ received: 400, stored: 400 });
    const text = await check(slug);
    expect(text).toContain("multivariate: alert");
    expect(text).toMatch(
      /PCA reconstruction error rose to [\d.]+ \(reference [\d.]+\); it grew in (x1|x2) \(\d+%\), (x1|x2) \(\d+%\)/,
    );
    expect(text).not.toMatch(/Drift in x[12]/);
    // The finding is an alert like any other: it opens the model's incident in its channel.
    const where = bot.sandbox.workspace.channelByName("fraud-alerts")?.id as string;
    const started = Date.now();
    let card: string | undefined;
    while (!card && Date.now() - started < 20_000) {
      card = bot.sandbox.workspace
        .messages(where)
        .map((m) => `${m.text ?? ""} ${JSON.stringify(m.blocks ?? [])}`)
        .find((t) => t.includes(slug) && t.includes("PCA reconstruction error") && !t.includes("Check of"));
      if (!card) await new Promise((r) => setTimeout(r, 50));
    }
    expect(card).toMatch(/INC-\d+ \[open\] PCA reconstruction error rose to [\d.]+ .*\(sensors-broken\)/);
  });
});
