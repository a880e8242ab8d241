import type { z } from "zod";
import type { Db } from "../db/index.js";
import {
  activeFeatures,
  isResidualColumn,
  type ModelRegistry,
  type RegisteredModel,
  slotCounts,
} from "../models/index.js";
import { type AnyRollup, decodeRollup } from "../rollups/format.js";
import { DEFAULT_MAX_CATEGORIES, isNumberText, type RollupLayout } from "../rollups/model.js";
import { checkProfile, MAX_PROFILES, type Profile, profileBatchSchema } from "../rollups/profile.js";
import { createRollupRepository } from "../rollups/repository.js";
import {
  createSegmentValues,
  parseSegmentSpec,
  type SegmentSplit,
  type SegmentValues,
} from "../rollups/segments.js";
import type { Clock } from "../shared/clock.js";
import type { PartitionManager } from "../storage/partitions.js";
import { InvalidBatchError } from "./errors.js";
import {
  describeIssue,
  type LabelledRow,
  labelBatchSchema,
  labelledBatchSchema,
  toStoredRow,
} from "./model.js";
import type { IngestListener, RowScorer } from "./ports.js";
import { createIngestRepository, type VectorSample } from "./repository.js";
import { validatePredictionBatch } from "./validate.js";
import { type EmbeddingSpec, takeVectors, type VectorColumn } from "./vector.js";

/** Validates a whole body or throws InvalidBatchError naming the first bad row and field. */
function parseBatch<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  if (!issue) throw new InvalidBatchError("the batch is not valid", null, "(batch)");
  const { row, field, message } = describeIssue(issue);
  if (row === null)
    throw new InvalidBatchError(
      `the body must be a JSON array of 1 to ${"maximum" in issue ? issue.maximum : "10000"} rows: ${message}`,
      null,
      "(batch)",
    );
  throw new InvalidBatchError(`row ${row}: ${field}: ${message}`, row, field);
}

function layout(model: RegisteredModel) {
  // Derived score slots are written by the bot, never from a client's keys.
  const inputs = model.features.filter((f) => !f.derived);
  return { slots: new Map(inputs.map((f) => [f.name, f])), counts: slotCounts(model.features) };
}

/** The names behind each slot, as the rollups key their columns. */
export function rollupLayout(model: RegisteredModel, maxCategories = DEFAULT_MAX_CATEGORIES): RollupLayout {
  const { counts } = layout(model);
  const numeric: string[] = new Array(counts.num).fill("");
  const categorical: string[] = new Array(counts.cat).fill("");
  const momentsOnly: boolean[] = new Array(counts.num).fill(false);
  for (const f of model.features) {
    (f.type === "numeric" ? numeric : categorical)[f.slot - 1] = f.name;
    // The PCA's squared residuals are read for their window mean only (which features the error grew in).
    if (f.derived && f.type === "numeric" && isResidualColumn(f.name)) momentsOnly[f.slot - 1] = true;
  }
  return {
    numeric,
    categorical,
    regression: model.task === "regression",
    maxCategories,
    ...(momentsOnly.some(Boolean) ? { momentsOnly } : {}),
  };
}

/** Ingest use cases: predictions (with their rollup deltas), labels and labelled reference uploads. */
export function createIngestService(deps: {
  db: Db;
  registry: ModelRegistry;
  clock: Clock;
  partitions: PartitionManager;
  listeners?: IngestListener[];
  /** Writes derived scores into rows before they are stored (the multivariate monitor's). */
  scorer?: RowScorer;
  /** Distinct values kept per categorical column in a rollup (config `rollups.max_categories`). */
  maxCategories?: number;
  /** A model's segment features and value cap (`models[].segments`, `segment_cap`); none: no segments. */
  segmentsOf?: (slug: string) => { features: readonly string[]; cap: number } | undefined;
  /**
   * A model's embedding features and their sample (`monitors.multivariate.embedding_sample`,
   * spread over the monitor window); none: the model has no embedding feature.
   */
  embeddingsOf?: (slug: string) => EmbeddingIngest | undefined;
}) {
  const repo = createIngestRepository(deps.db, { maxCategories: deps.maxCategories });
  const rollupRepo = createRollupRepository(deps.db);
  // Per model: the segment values under the cap, seeded once from the stored segments so a
  // restart keeps the same values (a second replica may keep a few others until it restarts).
  const splits = new Map<number, Promise<SegmentSplit | undefined>>();
  const splitOf = (model: RegisteredModel): Promise<SegmentSplit | undefined> => {
    let p = splits.get(model.id);
    if (!p) {
      p = (async () => {
        const cfg = deps.segmentsOf?.(model.slug);
        if (!cfg?.features.length) return undefined;
        const values: SegmentValues = createSegmentValues(cfg.cap);
        values.seed(model.id, await rollupRepo.segmentKeys(model.id));
        const features = cfg.features.flatMap((spec) => {
          const p = parseSegmentSpec(spec);
          const f =
            p && model.features.find((x) => x.name === p.feature && x.type === "categorical" && x.active);
          return p && f ? [{ name: p.feature, index: f.slot - 1, values: p.values }] : [];
        });
        return values.split(model.id, features);
      })();
      p.catch(() => splits.delete(model.id));
      splits.set(model.id, p);
    }
    return p;
  };
  // Per model and embedding feature: the next ring slot, seeded once from the stored sample so a
  // restart continues after the newest vector instead of overwriting it, and the vectors taken per
  // minute of prediction time (the budget).
  type Ring = { next: number; perMinute: Map<number, number> };
  const rings = new Map<string, Promise<Ring>>();
  const ringOf = (model: RegisteredModel, c: VectorColumn, size: number) => {
    const key = `${model.id}\u0000${c.name}`;
    let p = rings.get(key);
    if (!p) {
      p = repo
        .prepareRing(model.id, c.name, size, c.dimensions)
        .then((slot): Ring => ({ next: slot + 1, perMinute: new Map() }));
      p.catch(() => rings.delete(key));
      rings.set(key, p);
    }
    return p;
  };
  /**
   * Vectors for the ring, each into its next slot (the last one wins a slot reused in a batch): at
   * most `perMinute` per minute of prediction time, so a busy model writes a bounded number of
   * vectors and the ring still spans a monitor window; a quiet one has every vector kept.
   */
  async function sampleVectors(
    model: RegisteredModel,
    columns: readonly VectorColumn[],
    rows: readonly { ts: Date }[],
    cfg: EmbeddingIngest,
  ): Promise<VectorSample[]> {
    const out: VectorSample[] = [];
    for (const c of columns) {
      const ring = await ringOf(model, c, cfg.sample);
      const bySlot = new Map<number, VectorSample>();
      for (let i = 0; i < c.present.length; i++) {
        if (!c.present[i]) continue;
        const minute = Math.floor((rows[i] as { ts: Date }).ts.getTime() / 60_000);
        const taken = ring.perMinute.get(minute) ?? 0;
        if (taken >= cfg.perMinute) continue;
        ring.perMinute.set(minute, taken + 1);
        const slot = ring.next++ % cfg.sample;
        const bytes = c.data.subarray(i * c.dimensions, (i + 1) * c.dimensions);
        bySlot.set(slot, {
          feature: c.name,
          row: i,
          slot,
          base64: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64"),
        });
      }
      ring.next %= cfg.sample;
      // Only the newest minutes' counts matter; older ones are dropped to keep the map small.
      if (ring.perMinute.size > 1000)
        for (const m of [...ring.perMinute.keys()].sort((a, b) => a - b).slice(0, ring.perMinute.size - 500))
          ring.perMinute.delete(m);
      out.push(...bySlot.values());
    }
    return out;
  }
  const layouts = new Map<number, RollupLayout>();
  const layoutOf = (model: RegisteredModel) => {
    let l = layouts.get(model.id);
    if (!l) {
      l = rollupLayout(model, deps.maxCategories);
      layouts.set(model.id, l);
    }
    return l;
  };
  return {
    /** Validates and stores a batch of predictions; a replayed id is stored once. */
    async ingestPredictions(slug: string, body: unknown): Promise<{ received: number; stored: number }> {
      const model = deps.registry.get(slug);
      const embeddings = deps.embeddingsOf?.(slug);
      const vectors = embeddings ? takeVectorsOrThrow(body, embeddings.specs) : [];
      const checked = validatePredictionBatch(body);
      if ("problem" in checked) {
        const { row, field, message } = checked.problem;
        throw new InvalidBatchError(row === null ? message : `row ${row}: ${field}: ${message}`, row, field);
      }
      const rows = checked.rows;
      refuseProbabilities(model, rows);
      const { slots, counts } = layout(model);
      const versions = new Set<string>();
      const lowConfidenceTs: number[] = [];
      for (let i = 0; i < rows.length; i++) {
        const row = rows[i] as (typeof rows)[number];
        versions.add(row.model_version);
        if (row.confidence !== null && row.confidence < model.confidenceThreshold)
          lowConfidenceTs.push(row.ts.getTime());
      }
      const stored = rows.map((r) => toStoredRow(r, slots, counts));
      await deps.scorer?.score(model, stored, vectors);
      const samples =
        embeddings && vectors.length ? await sampleVectors(model, vectors, rows, embeddings) : [];
      await deps.partitions.ensureFor(rows.map((r) => r.ts));
      const { stored: inserted } = await repo.insertPredictions(
        model.id,
        stored,
        layoutOf(model),
        await splitOf(model),
        samples,
      );
      await deps.registry.noteVersions(model.id, versions);
      for (const l of deps.listeners ?? [])
        l.afterBatch({ model, rows: rows.length, stored: inserted, lowConfidenceTs });
      return { received: rows.length, stored: inserted };
    },
    /** Joins ground truth to stored predictions; ids not (yet) stored are counted, not kept. */
    async ingestLabels(
      slug: string,
      body: unknown,
    ): Promise<{ received: number; matched: number; pending: number }> {
      const model = deps.registry.get(slug);
      const rows = parseBatch(labelBatchSchema, body);
      // A regression model's label is the true value: one that is not a number could never be scored.
      const bad = model.task === "regression" ? rows.findIndex((r) => !isNumberText(String(r.label))) : -1;
      if (bad >= 0)
        throw new InvalidBatchError(
          `row ${bad}: label: expected a number (the true value) for a regression model`,
          bad,
          "label",
        );
      const { matched, pending } = await repo.setLabels(
        model.id,
        rows.map((r) => ({ i: r.id, l: String(r.label) })),
        deps.clock.now(),
        model.task === "regression",
        await splitOf(model),
      );
      return { received: rows.length, matched, pending };
    },
    /**
     * Validates pre-aggregated profiles (src/rollups/profile.ts) and records them like the
     * rollups of ingested rows; a resent profile id is counted once. Nothing is stored on error.
     */
    async ingestProfiles(slug: string, body: unknown): Promise<{ received: number; stored: number }> {
      const model = deps.registry.get(slug);
      const parsed = profileBatchSchema.safeParse(body);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const { row, field, message } = issue
          ? describeIssue(issue)
          : { row: null, field: "(batch)", message: "not valid" };
        throw new InvalidBatchError(
          row === null
            ? `the body must be a JSON array of 1 to ${MAX_PROFILES} profiles: ${message}`
            : `profile ${row}: ${field}: ${message}`,
          row,
          field,
        );
      }
      // Format 1 profiles are converted here, so every delta stored from now on is format 2.
      const profiles: Profile[] = parsed.data.map((p) => ({
        ...p,
        rollup: decodeRollup(p.rollup as AnyRollup),
      }));
      const active = activeFeatures(model);
      const features = {
        numeric: new Set(active.filter((f) => f.type === "numeric").map((f) => f.name)),
        categorical: new Set(active.filter((f) => f.type === "categorical").map((f) => f.name)),
        regression: model.task === "regression",
        multiclass: model.task === "multiclass_classification",
      };
      for (let i = 0; i < profiles.length; i++) {
        const problem = checkProfile(profiles[i] as Profile, features);
        if (problem)
          throw new InvalidBatchError(`profile ${i}: ${problem.path}: ${problem.message}`, i, problem.path);
      }
      const stored = await repo.insertProfiles(model.id, profiles, deps.clock.now());
      await deps.registry.noteVersions(model.id, new Set(profiles.map((p) => p.model_version)));
      return { received: profiles.length, stored };
    },
    /** Validates a labelled upload and stages it for profiling; returns the upload id. */
    async stageReference(
      slug: string,
      body: unknown,
    ): Promise<{ model: RegisteredModel; uploadId: number; rows: LabelledRow[]; vectors: VectorColumn[] }> {
      const model = deps.registry.get(slug);
      const embeddings = deps.embeddingsOf?.(slug);
      const vectors = embeddings ? takeVectorsOrThrow(body, embeddings.specs) : [];
      const rows = parseBatch(labelledBatchSchema, body);
      refuseProbabilities(model, rows);
      const { slots, counts } = layout(model);
      const uploadId = deps.clock.now().getTime() * 1000 + Math.floor(Math.random() * 1000);
      for (let start = 0; start < rows.length; start += 10_000) {
        const chunk = rows.slice(start, start + 10_000).map((r) => toStoredRow(r, slots, counts));
        await repo.insertSamples(uploadId, model.id, chunk);
      }
      return { model, uploadId, rows, vectors };
    },
    dropReference: (uploadId: number) => repo.deleteSamples(uploadId),
  };
}

/** What ingest does with a model's embedding features: check and take the vectors, keep a sample. */
export interface EmbeddingIngest {
  specs: readonly EmbeddingSpec[];
  /** Vectors kept per feature in the ring. */
  sample: number;
  /** Most vectors sampled per minute of prediction time (the ring spans at least a monitor window). */
  perMinute: number;
}

/** Takes a body's embedding vectors out (vector.ts), or throws InvalidBatchError naming the row and feature. */
function takeVectorsOrThrow(body: unknown, specs: readonly EmbeddingSpec[]): VectorColumn[] {
  const taken = takeVectors(body, specs);
  if ("problem" in taken) {
    const { row, field, message } = taken.problem;
    throw new InvalidBatchError(`row ${row}: ${field}: ${message}`, row, field);
  }
  return taken.columns;
}

/** A probability vector only means something for a multiclass model: refuse the first elsewhere. */
function refuseProbabilities(model: RegisteredModel, rows: readonly { probabilities?: unknown }[]): void {
  if (model.task === "multiclass_classification") return;
  const i = rows.findIndex((r) => r.probabilities !== undefined);
  if (i >= 0)
    throw new InvalidBatchError(
      `row ${i}: probabilities: only a multiclass model's predictions carry class probabilities`,
      i,
      "probabilities",
    );
}

/** The ingest service. */
export type IngestService = ReturnType<typeof createIngestService>;
