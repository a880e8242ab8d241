/**
 * Malformed API bodies: predictions, labels, reference uploads and Alertmanager webhooks with
 * wrong types, huge strings, deep nesting, NaN, odd unicode and prototype-pollution keys. Never a
 * 5xx, and a refused body writes nothing (row counts before and after each request).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resultRows } from "../../src/db/client.js";
import { API_TOKEN, type IncidentBot, startIncidentBot } from "../e2e/incidents-bot.js";
import { fraudRow } from "../helpers/monitoring.js";
import { deepJson, Gen, SEED } from "./generators.js";

const REQUESTS = 600;
let bot: IncidentBot;

beforeAll(async () => {
  bot = await startIncidentBot({ allFeatures: true });
});
afterAll(async () => {
  await bot?.close();
});

async function counts(): Promise<string> {
  const rows = resultRows<Record<string, number>>(
    await bot.database.db.execute(`select
      (select count(*) from predictions)::int as predictions,
      (select count(*) from predictions where label is not null)::int as labelled,
      (select count(*) from reference_samples)::int as samples,
      (select count(*) from reference_profiles)::int as profiles,
      (select count(*) from alerts)::int as alerts,
      (select count(*) from incidents)::int as incidents,
      (select count(*) from outbox)::int as outbox`),
  );
  return JSON.stringify(rows[0]);
}

/** A valid prediction row, then damaged in one or more places. */
function damagedRow(g: Gen, i: number): unknown {
  const row = fraudRow(() => g.next(), `fz${i}-${g.int(0, 1e9)}`, new Date()) as Record<string, unknown>;
  const features = row.features as Record<string, unknown>;
  for (let n = g.int(1, 3); n > 0; n--) {
    const field = g.pick([
      "id",
      "ts",
      "model_version",
      "prediction",
      "confidence",
      "features",
      "feature",
      "extra",
    ]);
    if (field === "feature")
      features[g.pick(["amount", "country", "__proto__", "constructor", g.word(), "x".repeat(101)])] =
        g.value();
    else if (field === "extra") row[g.pick(["__proto__", "constructor", "prototype", g.word()])] = g.value();
    else row[field] = g.value();
  }
  return row;
}

/** One hostile body as raw JSON text (so it can hold what JSON.stringify cannot write). */
function body(g: Gen, i: number): string {
  switch (g.int(0, 11)) {
    case 0:
      return deepJson(g.pick([100, 1000, 10_000, 100_000]));
    case 1:
      return g.pick([
        "NaN",
        "[NaN]",
        '[{"confidence": NaN}]',
        "[Infinity]",
        "-Infinity",
        "undefined",
        "[1,]",
        "{",
        "",
      ]);
    case 2:
      return JSON.stringify(Array.from({ length: g.int(1, 5) }, () => g.value()));
    case 3:
      return JSON.stringify(g.value());
    case 4:
      return `[{"__proto__": {"polluted": true}, "id": "p${i}"}]`;
    case 5:
      return `[${JSON.stringify(damagedRow(g, i)).replace('"features":{', '"features":{"__proto__":{"x":1},')}]`;
    case 6: {
      // Unicode that Postgres cannot store, inside otherwise valid rows.
      const row = fraudRow(() => g.next(), `u${i}`, new Date());
      const bad = g.pick(["\\u0000", "\\ud800", "\\udfff", "a\\u0000b", "\\ud83d"]);
      const text = JSON.stringify([row]);
      return g.chance(0.5)
        ? text.replace('"country":"', `"country":"${bad}`)
        : text.replace(`"id":"u${i}"`, `"id":"u${i}${bad}"`);
    }
    case 7:
      return JSON.stringify([
        { ...fraudRow(() => g.next(), `h${i}`, new Date()), id: "i".repeat(g.int(201, 300_000)) },
      ]);
    case 8:
      return JSON.stringify(
        Array.from({ length: g.int(1, 20) }, (_, k) =>
          g.chance(0.8) ? fraudRow(() => g.next(), `m${i}-${k}`, new Date()) : damagedRow(g, k),
        ),
      ).replace(/"model_version":"v1"/, g.chance(0.5) ? '"model_version":""' : '"model_version":1');
    case 9:
      return JSON.stringify(Array.from({ length: 10_001 }, (_, k) => ({ id: k })));
    default:
      return JSON.stringify(Array.from({ length: g.int(1, 4) }, (_, k) => damagedRow(g, k)));
  }
}

function alertmanagerBody(g: Gen): string {
  const alert = () => ({
    status: g.chance(0.8) ? "firing" : g.value(),
    labels: g.chance(0.8)
      ? {
          alertname: g.chance(0.7) ? "FuzzAlert" : g.value(),
          model: g.chance(0.8) ? "fraud-detector" : g.value(),
          [g.word()]: g.value(),
        }
      : g.value(),
    annotations: g.chance(0.7) ? { summary: g.value(), description: g.hostile() } : g.value(),
    startsAt: g.chance(0.7) ? new Date().toISOString() : g.value(),
    fingerprint: g.chance(0.5) ? g.value() : undefined,
  });
  const payload = {
    version: "4",
    status: g.chance(0.8) ? "firing" : g.value(),
    alerts: g.chance(0.9) ? Array.from({ length: g.int(0, 3) }, alert) : g.value(),
  };
  const text = JSON.stringify(payload);
  return g.chance(0.2) ? text.replace('"version":"4"', '"version":"4","__proto__":{"isAdmin":true}') : text;
}

/** A hostile model slug for the URL; text that cannot be percent-encoded becomes broken escapes. */
function slug(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return "%ZZ%00%ED%A0%80";
  }
}

describe(`malformed API bodies (seed ${SEED})`, () => {
  it("never a 5xx, and a refused body stores nothing", async () => {
    console.log(`ingest-fuzz seed ${SEED} (set SECURITY_SEED=${SEED} to replay)`);
    const g = new Gen(SEED + 7);
    const problems: string[] = [];
    const statuses: Record<number, number> = {};
    const started = Date.now();
    for (let i = 0; i < REQUESTS; i++) {
      const route = g.pick([
        "predictions",
        "predictions",
        "predictions",
        "labels",
        "reference",
        "alertmanager",
      ]);
      const url =
        route === "alertmanager"
          ? "/api/v1/alertmanager"
          : `/api/v1/models/${g.chance(0.95) ? "fraud-detector" : slug(g.hostile())}/${route}`;
      const payload = route === "alertmanager" ? alertmanagerBody(g) : body(g, i);
      const before = await counts();
      const res = await bot.http.inject({
        method: "POST",
        url,
        headers: {
          authorization: `Bearer ${API_TOKEN}`,
          "content-type": g.chance(0.95)
            ? "application/json"
            : g.pick(["text/plain", "application/x-www-form-urlencoded"]),
        },
        payload,
      });
      statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
      const what = `#${i} ${route} ${res.statusCode} ${res.body.slice(0, 200)} <- ${payload.slice(0, 300)}`;
      if (res.statusCode >= 500) problems.push(what);
      else if (res.statusCode >= 400 && (await counts()) !== before)
        problems.push(`wrote on refusal: ${what}`);
      else if (res.statusCode < 400 && route !== "alertmanager" && !/^\[/.test(payload.trim()))
        problems.push(`accepted a non-array body: ${what}`);
    }
    console.log(
      `ingest-fuzz: ${REQUESTS} requests in ${Date.now() - started} ms, by status ${JSON.stringify(statuses)}`,
    );
    expect(problems).toEqual([]);
    // Nothing leaked onto shared prototypes.
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    expect((await fetch(`${bot.url}/readyz`)).status).toBe(200);
  }, 180_000);
});
