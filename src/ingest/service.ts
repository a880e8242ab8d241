import type { z } from "zod";
import type { Db } from "../db/index.js";
import { type ModelRegistry, type RegisteredModel, slotCounts } from "../models/index.js";
import type { Clock } from "../shared/clock.js";
import { InvalidBatchError } from "./errors.js";
import {
  describeIssue,
  type LabelledRow,
  labelBatchSchema,
  labelledBatchSchema,
  storedRowsJson,
  toStoredRow,
} from "./model.js";
import type { IngestListener } from "./ports.js";
import { createIngestRepository } from "./repository.js";
import { validatePredictionBatch } from "./validate.js";

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
  return { slots: new Map(model.features.map((f) => [f.name, f])), counts: slotCounts(model.features) };
}

/** Ingest use cases: predictions, labels and labelled reference uploads. */
export function createIngestService(deps: {
  db: Db;
  registry: ModelRegistry;
  clock: Clock;
  listeners?: IngestListener[];
}) {
  const repo = createIngestRepository(deps.db);
  return {
    /** Validates and stores a batch of predictions; a replayed id is stored once. */
    async ingestPredictions(slug: string, body: unknown): Promise<{ received: number; stored: number }> {
      const model = deps.registry.get(slug);
      const checked = validatePredictionBatch(body);
      if ("problem" in checked) {
        const { row, field, message } = checked.problem;
        throw new InvalidBatchError(row === null ? message : `row ${row}: ${field}: ${message}`, row, field);
      }
      const rows = checked.rows;
      const { slots, counts } = layout(model);
      const versions = new Set<string>();
      const lowConfidenceTs: number[] = [];
      for (let i = 0; i < rows.length; i++) {
        const row = rows[i] as (typeof rows)[number];
        versions.add(row.model_version);
        if (row.confidence !== null && row.confidence < model.confidenceThreshold)
          lowConfidenceTs.push(row.ts.getTime());
      }
      const inserted = await repo.insertPredictions(model.id, storedRowsJson(rows, slots, counts));
      await deps.registry.noteVersions(model.id, versions);
      for (const l of deps.listeners ?? [])
        l.afterBatch({ model, rows: rows.length, stored: inserted, lowConfidenceTs });
      return { received: rows.length, stored: inserted };
    },
    /** Joins ground truth to stored predictions; ids not (yet) stored are counted, not kept. */
    async ingestLabels(slug: string, body: unknown): Promise<{ received: number; matched: number }> {
      const model = deps.registry.get(slug);
      const rows = parseBatch(labelBatchSchema, body);
      const matched = await repo.setLabels(
        model.id,
        rows.map((r) => ({ i: r.id, l: String(r.label) })),
        deps.clock.now(),
      );
      return { received: rows.length, matched };
    },
    /** Validates a labelled upload and stages it for profiling; returns the upload id. */
    async stageReference(
      slug: string,
      body: unknown,
    ): Promise<{ model: RegisteredModel; uploadId: number; rows: LabelledRow[] }> {
      const model = deps.registry.get(slug);
      const rows = parseBatch(labelledBatchSchema, body);
      const { slots, counts } = layout(model);
      const uploadId = deps.clock.now().getTime() * 1000 + Math.floor(Math.random() * 1000);
      for (let start = 0; start < rows.length; start += 10_000) {
        const chunk = rows.slice(start, start + 10_000).map((r) => toStoredRow(r, slots, counts));
        await repo.insertSamples(uploadId, model.id, chunk);
      }
      return { model, uploadId, rows };
    },
    dropReference: (uploadId: number) => repo.deleteSamples(uploadId),
  };
}

/** The ingest service. */
export type IngestService = ReturnType<typeof createIngestService>;
