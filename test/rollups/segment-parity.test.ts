/**
 * Segment rollups against raw rows: the parity fixture's rows (test/rollups/fixtures/parity.json,
 * made by generate.py with NumPy) are stored with `segments: [country]` and a cap of 3 values,
 * so two countries fold into `country=(other)`. Every segment's reductions from its rollups
 * must equal the raw-row reductions narrowed to the same rows (the raw window's segment filter),
 * and its row counts and means equal those computed straight from the fixture's arrays.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configSchema } from "../../src/config/index.js";
import type { Database } from "../../src/db/index.js";
import { createRollupWindowRepository } from "../../src/monitoring/rollup-window.js";
import { segmentFilter } from "../../src/monitoring/segments.js";
import { createRawWindowRepository, type WindowSource } from "../../src/monitoring/window-repository.js";
import { createRollupRepository } from "../../src/rollups/repository.js";
import { createMonitoringFeature, type MonitoringFeature } from "../../src/wiring/monitoring-feature.js";
import { openTestDatabase } from "../helpers/db.js";
import { featureContext, manualClock, recordingSink } from "../helpers/monitoring.js";

interface Sample {
  numeric: Record<string, number[]>;
  country: string[];
  prediction: number[];
  confidence: number[];
  label: number[];
  n: number;
}
const fixture = JSON.parse(readFileSync(new URL("./fixtures/parity.json", import.meta.url), "utf8")) as {
  current: Sample;
};
const cur = fixture.current;
const NUMERIC = Object.keys(cur.numeric);
const FROM = new Date("2026-12-01T10:30:00Z");
const NOW = new Date("2026-12-01T12:00:00Z");

// The listed form: two countries named in the config (not the first two to arrive); every other
// country is (other), whatever the cap.
const COUNTRIES = [...new Set(cur.country)];
const LISTED = [COUNTRIES[3], COUNTRIES[1]] as string[];

const config = configSchema.parse({
  workspace: {
    alert_channel: "#alerts",
    user_groups: { l1: { handle: "ops" }, l2: { handle: "ds" }, t: { handle: "team" } },
  },
  models: [
    {
      slug: "seg",
      name: "Segments",
      task: "binary_classification",
      owners: "t",
      features: [
        ...NUMERIC.map((name) => ({ name, type: "numeric" })),
        { name: "country", type: "categorical" },
      ],
      segments: ["country"],
      segment_cap: 3,
      monitors: { confidence: { window: "2h" } },
    },
    {
      slug: "listed",
      name: "Listed segments",
      task: "binary_classification",
      owners: "t",
      features: [
        { name: "f_amount", type: "numeric" },
        { name: "country", type: "categorical" },
      ],
      segments: [`country = ${LISTED.join(", ")}`],
      segment_cap: 3,
      monitors: { confidence: { window: "2h" } },
    },
  ],
});

let database: Database;
let feature: MonitoringFeature;
const clock = manualClock(NOW);

beforeAll(async () => {
  database = await openTestDatabase();
  feature = createMonitoringFeature(featureContext(database, config, clock), {
    sink: recordingSink(),
    schedule: false,
  });
  await feature.ready();
  const span = NOW.getTime() - FROM.getTime();
  const rows = Array.from({ length: cur.n }, (_, i) => ({
    id: `c-${i}`,
    ts: new Date(FROM.getTime() + Math.floor((i * span) / cur.n)).toISOString(),
    model_version: "v1",
    prediction: cur.prediction[i] as number,
    confidence: cur.confidence[i] as number,
    features: {
      ...Object.fromEntries(NUMERIC.map((k) => [k, cur.numeric[k]?.[i] as number])),
      country: cur.country[i] as string,
    },
  }));
  for (let i = 0; i < rows.length; i += 500) {
    await feature.ingest.ingestPredictions("seg", rows.slice(i, i + 500));
    await feature.ingest.ingestPredictions(
      "listed",
      rows.slice(i, i + 500).map((r) => ({
        ...r,
        features: {
          f_amount: cur.numeric.f_amount?.[Number(r.id.slice(2))] as number,
          country: r.features.country,
        },
      })),
    );
  }
  // Half the labels before folding, half after: both paths must move the segment's cells.
  const labels = rows.map((r, i) => ({ id: r.id, label: cur.label[i] as number }));
  await feature.ingest.ingestLabels("seg", labels.slice(0, 700));
  await feature.rollups.flush();
  await feature.ingest.ingestLabels("seg", labels.slice(700));
});

afterAll(async () => {
  await feature.stop?.();
  await database.close();
});

/** The first `cap` countries in arrival order keep their own segment; the rest are (other). */
function expectedSegments(cap: number): Map<string, number[]> {
  const kept: string[] = [];
  const out = new Map<string, number[]>();
  cur.country.forEach((c, i) => {
    if (!kept.includes(c) && kept.length < cap) kept.push(c);
    const key = `country=${kept.includes(c) ? c : "(other)"}`;
    out.set(key, [...(out.get(key) ?? []), i]);
  });
  return out;
}

describe("segment rollups match raw rows narrowed to the segment", () => {
  it("keeps 3 countries and folds the rest into (other), with row counts and means from the fixture", async () => {
    const model = feature.registry.get("seg");
    const keys = await createRollupRepository(database.db).segmentsIn(model.id, FROM, NOW);
    const want = expectedSegments(3);
    expect(keys).toEqual([...want.keys()].sort());
    const windows = createRollupWindowRepository(database.db);
    const slot = (name: string) => model.features.find((f) => f.name === name)?.slot as number;
    for (const [key, idx] of want) {
      const filter = segmentFilter(model, key, keys);
      if (!filter) throw new Error(`no filter for ${key}`);
      const src: WindowSource = { kind: "window", modelId: model.id, from: FROM, to: NOW, segment: filter };
      const described = await windows.describe(
        src,
        [{ key: 0, ref: { kind: "num", slot: slot("f_amount"), name: "f_amount" } }],
        [0.5],
      );
      const got = described.get(0);
      const values = idx.map((i) => cur.numeric.f_amount?.[i] as number);
      const mean = values.reduce((s, x) => s + x, 0) / values.length;
      expect(got?.n, key).toBe(idx.length);
      expect(got?.min).toBe(Math.min(...values));
      expect(got?.max).toBe(Math.max(...values));
      expect(Math.abs((got?.mean as number) - mean)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(mean)));
    }
  });

  it("gives the same summary, categories, histograms and confusion per segment from rollups as from raw rows", async () => {
    const model = feature.registry.get("seg");
    const keys = await createRollupRepository(database.db).segmentsIn(model.id, FROM, NOW);
    const rolled = createRollupWindowRepository(database.db);
    const raw = createRawWindowRepository(database.db);
    const flag = model.features.find((f) => f.name === "f_flag")?.slot as number;
    const country = model.features.find((f) => f.name === "country")?.slot as number;
    let total = 0;
    for (const key of keys) {
      const filter = segmentFilter(model, key, keys);
      if (!filter) throw new Error(`no filter for ${key}`);
      const src: WindowSource = { kind: "window", modelId: model.id, from: FROM, to: NOW, segment: filter };
      const [a, b] = [await rolled.summary(src, 0.75), await raw.summary(src, 0.75)];
      expect(a.rows, key).toBe(b.rows);
      expect(a.labelled, key).toBe(b.labelled);
      expect(a.lowConfidence, key).toBe(b.lowConfidence);
      total += a.rows;
      const cols = [{ key: 1, ref: { kind: "cat" as const, slot: country, name: "country" } }];
      const [ca, cb] = [await rolled.categories(src, cols), await raw.categories(src, cols)];
      expect([...(ca.get(1)?.counts ?? [])].sort(), key).toEqual([...(cb.get(1)?.counts ?? [])].sort());
      const hist = [{ key: 2, ref: { kind: "num" as const, slot: flag, name: "f_flag" }, edges: [0.5] }];
      expect((await rolled.histograms(src, hist)).get(2)?.counts, key).toEqual(
        (await raw.histograms(src, hist)).get(2)?.counts,
      );
      const sortCells = (xs: { predicted: string; actual: string; count: number }[]) =>
        xs.map((x) => `${x.predicted}/${x.actual}:${x.count}`).sort();
      expect(sortCells(await rolled.confusion(src)), key).toEqual(sortCells(await raw.confusion(src)));
    }
    expect(total).toBe(cur.n);
  });

  it("keeps only the listed values of `country = A, B` as segments, every other country in (other)", async () => {
    const model = feature.registry.get("listed");
    const keys = await createRollupRepository(database.db).segmentsIn(model.id, FROM, NOW);
    expect(keys).toEqual([...LISTED.map((c) => `country=${c}`), "country=(other)"].sort());
    const windows = createRollupWindowRepository(database.db);
    for (const key of keys) {
      const filter = segmentFilter(model, key, keys);
      if (!filter) throw new Error(`no filter for ${key}`);
      const src: WindowSource = { kind: "window", modelId: model.id, from: FROM, to: NOW, segment: filter };
      const value = key.slice("country=".length);
      const want = cur.country.filter((c) =>
        value === "(other)" ? !LISTED.includes(c) : c === value,
      ).length;
      expect((await windows.summary(src, 0.75)).rows, key).toBe(want);
    }
  });
});
