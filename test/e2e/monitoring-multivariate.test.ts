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
/** Models with a 16-dimension embedding `text` beside two numeric features. */
const EMBED = ["embed-null", "embed-shift"] as const;
const DIMS = 16;

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
  for (const slug of EMBED)
    (input.models as Record<string, unknown>[]).push({
      slug,
      name: slug,
      task: "binary_classification",
      owners: "fraud-ml",
      alert_channel: "#fraud-alerts",
      features: [
        { name: "x1", type: "numeric" },
        { name: "x2", type: "numeric" },
        { name: "text", type: "embedding", dimensions: DIMS },
      ],
      monitors: { multivariate: { window: "1h" } },
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

// The embedding: three latent factors mixed into 16 dimensions plus noise. The shift moves the
// first factor's mean by 1σ (the mix of topics changes), which the centroid distance and the
// projections see, and so does the domain classifier.
const BASIS = Array.from({ length: 3 }, (_, k) => Array.from({ length: DIMS }, () => n() / (k + 1)));
function vector(shift: number): number[] {
  const u = [n() + shift, n(), n()];
  return Array.from(
    { length: DIMS },
    (_, j) => u.reduce((s, x, k) => s + x * ((BASIS[k] as number[])[j] as number), 0) + 0.5 * n(),
  );
}
const base64 = (v: number[]) => Buffer.from(Float32Array.from(v).buffer).toString("base64");

function embedRows(prefix: string, count: number, from: number, span: number, shift: number, b64: boolean) {
  return Array.from({ length: count }, (_, i) => {
    const x1 = n();
    const v = vector(shift);
    return {
      id: `${prefix}-${i}`,
      ts: new Date(from + Math.floor((i * span) / count)).toISOString(),
      model_version: "v1",
      prediction: x1 > 0 ? "1" : "0",
      confidence: 0.9,
      features: { x1, x2: x1 + 0.1 * n(), text: b64 ? base64(v) : v },
    };
  });
}

async function count(q: ReturnType<typeof sql>): Promise<number> {
  return Number(resultRows<{ c: number }>(await bot.database.db.execute(q))[0]?.c);
}

describe("embedding drift through the bot's API and /mlops check", () => {
  const now = Date.now();

  it("a vector of the wrong length is refused with a 400 naming the row, and nothing of the batch is written", async () => {
    const slug = EMBED[0];
    const batch = embedRows(`${slug}-bad`, 3, now - HOUR, 60_000, 0, false);
    (batch[1] as { features: { text: number[] } }).features.text.pop();
    const res = await api(slug, "predictions", batch);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      row: 1,
      field: "features.text",
      message: `row 1: features.text: expected a vector of ${DIMS} numbers, got ${DIMS - 1}`,
    });
    const nonFinite = embedRows(`${slug}-bad`, 2, now - HOUR, 60_000, 0, false);
    (nonFinite[1] as { features: { text: unknown[] } }).features.text[3] = "0.5";
    expect((await api(slug, "predictions", nonFinite)).body).toMatchObject({
      row: 1,
      message: "row 1: features.text: element 3: expected a finite number",
    });
    expect(
      await count(sql`select count(*)::int as c from predictions where request_id like ${`${slug}-bad-%`}`),
    ).toBe(0);
    expect(await count(sql`select count(*)::int as c from embedding_samples`)).toBe(0);
  });

  it("the baseline fits the embedding from the sampled vectors; a null window is silent, a shifted one is found", async () => {
    for (const [i, slug] of EMBED.entries()) {
      const ref = embedRows(`${slug}-ref`, 1200, now - 3 * 24 * HOUR, 24 * HOUR, 0, i === 1);
      expect((await api(slug, "predictions", ref)).body).toEqual({ received: 1200, stored: 1200 });
      await baseline(slug, now);
    }
    // The vector is not stored with the row: no extra key, no slot beyond the registered ones.
    const [stored] = resultRows<{ extra: unknown; len: number }>(
      await bot.database.db.execute(
        sql`select extra, array_length(num, 1) as len from predictions where request_id = ${`${EMBED[0]}-ref-0`}`,
      ),
    );
    expect(stored).toEqual({ extra: null, len: 2 + 1 + 2 + 3 });
    // One ring of sampled vectors (every row, under the 2,000 cap) and one pinned reference pool per
    // model (the classifier trains on 1,000 of them, evenly spaced).
    expect(
      await count(sql`select count(*)::int as c from embedding_samples s join models m on m.id = s.model_id
        where m.slug = ${EMBED[0]} and s.pool = 0`),
    ).toBe(1200);
    expect(
      await count(sql`select count(*)::int as c from embedding_samples s join models m on m.id = s.model_id
        where m.slug = ${EMBED[0]} and s.pool > 0`),
    ).toBe(1200);

    const still = embedRows(`${EMBED[0]}-live`, 400, now - HOUR, HOUR - 60_000, 0, false);
    expect((await api(EMBED[0], "predictions", still)).body).toEqual({ received: 400, stored: 400 });
    const quiet = await check(EMBED[0]);
    expect(quiet).toMatch(
      /multivariate: ok — \d+ rows, \d+ scored, reconstruction error [\d.]+ \(band [\d.]+–[\d.]+\); text: distance [\d.]+ \(band [\d.]+–[\d.]+\), classifier AUC 0\.\d+ \(1000\+\d+ vectors\)/,
    );
    expect(quiet).not.toContain("Embedding text");

    const shifted = embedRows(`${EMBED[1]}-live`, 400, now - HOUR, HOUR - 60_000, 1, true);
    expect((await api(EMBED[1], "predictions", shifted)).body).toEqual({ received: 400, stored: 400 });
    const found = await check(EMBED[1]);
    expect(found).toContain("multivariate: alert");
    expect(found).toMatch(
      /Embedding text: (distance to the reference centroid|projection on the reference's principal direction \d) (rose|fell) to [-\d.]+ \(reference [-\d.]+\)/,
    );
    expect(found).toMatch(
      /Embedding text: a classifier tells recent vectors from the reference's \(ROC AUC 0\.\d+ > 0\.55\)/,
    );
    expect(found).not.toContain("PCA reconstruction error");
  });
});
