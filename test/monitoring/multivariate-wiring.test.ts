/**
 * The multivariate reference as the bot wires it, against a real database: the baseline fits it
 * from a labelled upload and from a window's raw rows (and says so when retention dropped them),
 * and an ingest scorer of another replica picks a new baseline up after its TTL.
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configSchema } from "../../src/config/index.js";
import { resultRows } from "../../src/db/client.js";
import type { Database } from "../../src/db/index.js";
import { rollupLayout } from "../../src/ingest/service.js";
import { createEmbeddingSampleRepository } from "../../src/monitoring/embedding-samples.js";
import { createIngestScorer } from "../../src/monitoring/ingest-scorer.js";
import { createMonitoringRepository } from "../../src/monitoring/repository.js";
import { rollupBatch } from "../../src/rollups/model.js";
import { createMonitoringFeature, type MonitoringFeature } from "../../src/wiring/monitoring-feature.js";
import { openTestDatabase } from "../helpers/db.js";
import { featureContext, manualClock, normal, recordingSink, seeded } from "../helpers/monitoring.js";

const NOW = new Date("2026-12-01T12:00:00Z");
const HOUR = 3_600_000;
const config = configSchema.parse({
  workspace: {
    alert_channel: "#alerts",
    user_groups: { l1: { handle: "ops" }, l2: { handle: "ds" }, t: { handle: "team" } },
  },
  models: [
    ...["up", "win"].map((slug) => ({
      slug,
      name: slug,
      task: "binary_classification",
      owners: "t",
      features: [
        { name: "a", type: "numeric" },
        { name: "b", type: "numeric" },
        { name: "c", type: "categorical" },
      ],
      monitors: { multivariate: { window: "1h", variance: 0.5 } },
    })),
    {
      slug: "emb",
      name: "emb",
      task: "binary_classification",
      owners: "t",
      features: [
        { name: "a", type: "numeric" },
        { name: "b", type: "numeric" },
        { name: "c", type: "categorical" },
        { name: "e", type: "embedding", dimensions: 4 },
      ],
      monitors: { multivariate: { window: "2m", embedding_sample: 100 } },
    },
    {
      // One tabular feature: no PCA, the monitor judges the embedding alone.
      slug: "solo",
      name: "solo",
      task: "binary_classification",
      owners: "t",
      features: [
        { name: "a", type: "numeric" },
        { name: "e", type: "embedding", dimensions: 4 },
      ],
      monitors: { multivariate: { window: "1h" } },
    },
  ],
});
const rand = seeded(77);
const rows = (prefix: string, count: number, from: number, label: boolean) =>
  Array.from({ length: count }, (_, i) => {
    const a = normal(rand);
    return {
      id: `${prefix}-${i}`,
      ts: new Date(from + i * 1000).toISOString(),
      model_version: "v1",
      prediction: "1",
      confidence: 0.9,
      features: { a, b: a + 0.1 * normal(rand), c: rand() < 0.5 ? "x" : "y" },
      ...(label ? { label: "1" } : {}),
    };
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
});
afterAll(async () => {
  await feature.stop?.();
  await database.close();
});

describe("the multivariate reference as wired", () => {
  it("a labelled upload's baseline carries the PCA of its features", async () => {
    await feature.reference.fromUpload("up", rows("u", 300, NOW.getTime() - 2 * HOUR, true), "test");
    const p = await createMonitoringRepository(database.db).latestProfile(feature.registry.get("up").id);
    expect(p?.profile.multivariate?.columns.map((c) => c.name)).toEqual(["a", "b", "c"]);
    expect(p?.profile.multivariate?.variance).toBe(0.5);
    expect(p?.profile.multivariate?.bands["(reconstruction_error)"]).not.toBeNull();
  });

  it("another replica's scorer picks a new baseline up after its TTL, not before", async () => {
    const model = feature.registry.get("up");
    let t = 0;
    const replica = createIngestScorer({
      runs: createMonitoringRepository(database.db),
      now: () => t,
      ttlMs: 1000,
    });
    const slot = model.features.find((f) => f.name === "(reconstruction_error)")?.slot as number;
    const row = () => ({ n: [1, 1.05, ...new Array(10).fill(null)], k: ["x"] });
    const first = row();
    await replica.score(model, [first]);
    const before = first.n[slot - 1];
    expect(before).toEqual(expect.any(Number));
    // A new baseline from rows where b no longer follows a: this process's scorer is told, the
    // replica's keeps its fit for the TTL.
    const flipped = rows("v", 300, NOW.getTime() - 2 * HOUR, true).map((r) => ({
      ...r,
      features: { ...r.features, b: -r.features.a },
    }));
    await feature.reference.fromUpload("up", flipped, "test");
    const cached = row();
    await replica.score(model, [cached]);
    expect(cached.n[slot - 1]).toBe(before);
    t = 1000;
    const fresh = row();
    await replica.score(model, [fresh]);
    // What a scorer with nothing cached gives under the new baseline; (1, 1.05) breaks it harder.
    const reference = row();
    await createIngestScorer({ runs: createMonitoringRepository(database.db) }).score(model, [reference]);
    expect(fresh.n[slot - 1]).toBe(reference.n[slot - 1]);
    expect(fresh.n[slot - 1]).toBeGreaterThan((before as number) * 1.5);
  });

  it("a window whose raw rows retention dropped gets no multivariate fit, and the monitor says why", async () => {
    const model = feature.registry.get("win");
    await feature.ingest.ingestPredictions("win", rows("w", 200, NOW.getTime() - 3 * HOUR, false));
    await feature.rollups.flush();
    await database.db.execute(sql`delete from predictions where model_id = ${model.id}`);
    await feature.reference.fromWindow("win", new Date(NOW.getTime() - 4 * HOUR), NOW, "test");
    const p = await createMonitoringRepository(database.db).latestProfile(model.id);
    expect(p?.profile.rows).toBe(200);
    expect(p?.profile.multivariate).toBeNull();
    const run = await feature.monitoring.runMonitor("win", "multivariate", "manual");
    expect(run.status).toBe("skipped");
    expect(run.note).toMatch(/no multivariate fit .*within retention/);
  });

  it("a labelled upload's vectors: a wrong length is refused naming the row, nothing staged; good ones are fitted and pinned", async () => {
    const model = feature.registry.get("emb");
    const withVectors = (prefix: string, count: number) =>
      rows(prefix, count, NOW.getTime() - 2 * HOUR, true).map((r, i) => ({
        ...r,
        features: { ...r.features, e: [normal(rand), normal(rand), 0.1 * i, 1] as number[] },
      }));
    const bad = withVectors("eb", 5);
    (bad[2] as { features: { e: number[] } }).features.e = [1, 2, 3];
    await expect(feature.reference.fromUpload("emb", bad, "test")).rejects.toThrow(
      "row 2: features.e: expected a vector of 4 numbers, got 3",
    );
    const staged = resultRows<{ c: number }>(
      await database.db.execute(sql`select count(*)::int as c from reference_samples`),
    );
    expect(staged).toEqual([{ c: 0 }]);
    expect(await createMonitoringRepository(database.db).latestProfile(model.id)).toBeNull();

    await feature.reference.fromUpload("emb", withVectors("eu", 300), "test");
    const p = await createMonitoringRepository(database.db).latestProfile(model.id);
    const mv = p?.profile.multivariate;
    expect(mv?.embeddings.map((e) => [e.name, e.fit.dimensions, e.fit.components.length])).toEqual([
      ["e", 4, 2],
    ]);
    expect(mv?.bands["e(distance)"]).not.toBeNull();
    expect(mv?.pca).not.toBeNull();
    // The pinned pool holds the sample size (100 of the 300, evenly spaced in time), under the profile's id.
    const pinned = await createEmbeddingSampleRepository(database.db).pinned(model.id, "e", p?.id as number);
    expect(pinned).toHaveLength(100);
    expect(Array.from(pinned[0]?.vector ?? []).slice(2)).toEqual([0, 1]);
  });

  it("the ring keeps the latest vectors only; a window baseline it no longer covers says so instead of guessing", async () => {
    const model = feature.registry.get("emb");
    const batch = (prefix: string, from: number) =>
      rows(prefix, 150, from, false).map((r) => ({
        ...r,
        features: { ...r.features, e: [normal(rand), normal(rand), normal(rand), normal(rand)] },
      }));
    await feature.ingest.ingestPredictions("emb", batch("old", NOW.getTime() - 8 * HOUR));
    await feature.ingest.ingestPredictions("emb", batch("new", NOW.getTime() - 3 * HOUR));
    const samples = createEmbeddingSampleRepository(database.db);
    const span = await samples.ringSpan(model.id, "e");
    // The budget: 100 vectors per 2-minute window, 50 a minute. Rows come one a second, so each
    // full minute keeps its first 50 (rows 50–59 are skipped); 130 of the newer batch's 150 were
    // sampled, and the ring's 100 are its newest: from row 30 on.
    expect(span.n).toBe(100);
    expect(span.first?.getTime()).toBe(NOW.getTime() - 3 * HOUR + 30_000);
    const skipped = await samples.recent(
      model.id,
      "e",
      new Date(NOW.getTime() - 3 * HOUR + 50_000),
      new Date(NOW.getTime() - 3 * HOUR + 60_000),
      100,
    );
    expect(skipped).toHaveLength(0);
    const stored = await feature.reference.fromWindow(
      "emb",
      new Date(NOW.getTime() - 9 * HOUR),
      new Date(NOW.getTime() - 7 * HOUR),
      "test",
    );
    // The answer (API and /mlops baseline) says so at once, not only the next monitor run.
    expect(stored.notes).toEqual([expect.stringMatching(/^embedding e not fitted: 0 sampled vectors/)]);
    const p = await createMonitoringRepository(database.db).latestProfile(model.id);
    expect(p?.profile.multivariate?.embeddings).toEqual([]);
    expect(p?.profile.multivariate?.embeddingNotes?.e).toMatch(
      /^0 sampled vectors in the reference \(at least 50 needed\): the sample keeps the latest 100 vectors, now from /,
    );
    // The monitor repeats why (here beside its own reason to skip: no rows in its 2-minute window).
    const run = await feature.monitoring.runMonitor("emb", "multivariate", "manual");
    expect(run.note).toMatch(
      /^fewer than 30 scored rows \(0\); embedding e: 0 sampled vectors in the reference/,
    );
    // The earlier reference's pinned pool went with it.
    expect(await samples.pinned(model.id, "e", (p?.id as number) - 1)).toHaveLength(0);
  });

  it("a model whose only multivariate part is an embedding: a shifted window is found by its scores and the classifier", async () => {
    const vector = (shift: number) => [normal(rand) + shift, normal(rand), 0.5 * normal(rand), normal(rand)];
    const batch = (prefix: string, count: number, from: number, shift: number, label: boolean) =>
      Array.from({ length: count }, (_, i) => ({
        id: `${prefix}-${i}`,
        ts: new Date(from + i * 1000).toISOString(),
        model_version: "v1",
        prediction: "1",
        confidence: 0.9,
        features: { a: normal(rand), e: vector(shift) },
        ...(label ? { label: "1" } : {}),
      }));
    await feature.reference.fromUpload("solo", batch("sr", 400, NOW.getTime() - 5 * HOUR, 0, true), "test");
    const p = await createMonitoringRepository(database.db).latestProfile(feature.registry.get("solo").id);
    expect(p?.profile.multivariate?.pca).toBeNull();
    expect(p?.profile.multivariate?.embeddings.map((e) => e.name)).toEqual(["e"]);
    await feature.ingest.ingestPredictions("solo", batch("sl", 200, NOW.getTime() - 30 * 60_000, 1.5, false));
    const run = await feature.monitoring.runMonitor("solo", "multivariate", "manual");
    expect(run.status).toBe("alert");
    expect(run.metrics.reconstruction_error).toBeUndefined();
    const [e] = run.metrics.embeddings as Record<string, number>[];
    expect(e).toMatchObject({ feature: "e", scored_rows: 200, reference_vectors: 400 });
    // 200 rows over 3 min 20 s at 34 vectors a minute of the budget (2,000 per 1 h window).
    expect(e?.recent_vectors).toBeGreaterThanOrEqual(50);
    expect(e?.recent_vectors).toBeLessThanOrEqual(4 * 34);
    expect(run.findings.map((f) => f.subject)).toEqual(
      expect.arrayContaining(["e(distance)", "e(domain_classifier)"]),
    );
    expect(run.findings.find((f) => f.subject === "e(domain_classifier)")?.title).toMatch(
      /^Embedding e: a classifier tells recent vectors from the reference's \(ROC AUC 0\.\d{3} > 0\.55\)$/,
    );
  });

  it("the rollup keeps the squared residuals as moments only, the reconstruction error and embedding scores in full", () => {
    const model = feature.registry.get("emb");
    const layout = rollupLayout(model);
    const slotOf = (name: string) => model.features.find((f) => f.derived && f.name === name)?.slot as number;
    const n = new Array(layout.numeric.length).fill(null);
    const rows = [0.5, 1.5, 2.5].map((x, i) => {
      const row = { t: `2026-12-01T11:00:0${i}Z`, v: "v1", p: "1", c: 0.9, n: [...n], k: ["x"], x: null };
      for (const name of ["(reconstruction_error)", "(sq_residual:a)", "e(distance)"])
        row.n[slotOf(name) - 1] = x;
      return row;
    });
    const [delta] = [...rollupBatch(rows, layout).values()];
    const agg = (name: string) => delta?.data.numeric[name];
    expect(agg("(sq_residual:a)")).toMatchObject({
      n: 3,
      sum: 4.5,
      sumsq: 8.75,
      min: 0.5,
      max: 2.5,
      values: null,
    });
    expect(agg("(sq_residual:a)")?.sketch.pos.counts).toEqual([]);
    for (const full of ["(reconstruction_error)", "e(distance)"]) {
      expect(agg(full)).toMatchObject({ n: 3, sum: 4.5 });
      expect(agg(full)?.values).toEqual({ "0.5": 1, "1.5": 1, "2.5": 1 });
    }
  });
});
