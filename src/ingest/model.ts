import { z } from "zod";
import type { FeatureSlot } from "../models/index.js";
import { isStorable, UNSTORABLE_MESSAGE } from "../shared/storable.js";
import { probabilitiesProblem } from "./probabilities.js";

/** Largest batch the ingest API accepts, in rows. */
export const MAX_BATCH_ROWS = 10_000;

/** A string Postgres can store (see shared/storable). */
const text = (min: number, max: number) =>
  z.string().min(min).max(max).refine(isStorable, { message: UNSTORABLE_MESSAGE });
const requestId = z.union([text(1, 200), z.number().int().nonnegative()]).transform(String);
const featureValue = z.union([z.number(), text(0, 1000), z.null()]);

const predictionFields = {
  id: requestId,
  ts: z.iso.datetime({ offset: true }).transform((s) => new Date(s)),
  model_version: text(1, 100),
  prediction: z.union([z.number(), text(1, 200)]),
  confidence: z.number().min(0).max(1).nullable(),
  features: z.record(text(1, 100), featureValue),
  /** A multiclass model's probability per class (src/ingest/probabilities.ts has the rules). */
  probabilities: z.custom<Record<string, number>>(() => true).optional(),
};

/** Refuses a probability vector that does not sum to 1 or lacks the predicted class. */
function checkProbabilities(
  row: { prediction: unknown; probabilities?: unknown },
  ctx: z.core.$RefinementCtx,
): void {
  if (row.probabilities === undefined) return;
  const message = probabilitiesProblem(row.probabilities, row.prediction);
  if (message) ctx.addIssue({ code: "custom", path: ["probabilities"], message });
}

/** One prediction as a model service reports it. */
export const predictionRowSchema = z.strictObject(predictionFields).superRefine(checkProbabilities);

/** A batch of predictions: 1 to 10,000 rows. */
export const predictionBatchSchema = z.array(predictionRowSchema).min(1).max(MAX_BATCH_ROWS);

/** A labelled reference upload: predictions that also carry their ground truth. */
export const labelledBatchSchema = z
  .array(
    z
      .strictObject({ ...predictionFields, label: z.union([z.number(), text(1, 200)]).nullable() })
      .superRefine(checkProbabilities),
  )
  .min(1)
  .max(100_000);

/** Ground truth for earlier predictions, joined by request id. */
export const labelBatchSchema = z
  .array(z.strictObject({ id: requestId, label: z.union([z.number(), text(1, 200)]) }))
  .min(1)
  .max(MAX_BATCH_ROWS);

/** A validated prediction. */
export type PredictionRow = z.output<typeof predictionRowSchema>;
/** A validated labelled row. */
export type LabelledRow = z.output<typeof labelledBatchSchema>[number];
/** A validated label. */
export type LabelRow = z.output<typeof labelBatchSchema>[number];

/**
 * The first problem of a rejected batch in words a caller can act on, e.g.
 * `row 3: confidence: Too big: expected number to be <=1`. zod paths start at the row index.
 */
export function describeIssue(issue: z.core.$ZodIssue): {
  row: number | null;
  field: string;
  message: string;
} {
  const [first, ...rest] = issue.path;
  const row = typeof first === "number" ? first : null;
  const fieldPath = row === null ? issue.path : rest;
  const field = fieldPath.map(String).join(".") || "(row)";
  return { row, field, message: issue.message };
}

/** A row in storage layout: positional feature arrays plus whatever did not fit them. */
export interface StoredRow {
  i: string;
  t: string;
  v: string;
  p: string;
  c: number | null;
  n: (number | null)[];
  k: (string | null)[];
  x: Record<string, unknown> | null;
  l?: string | null;
  /** A multiclass model's probability per class, as sent (absent: none sent). */
  q?: Record<string, number>;
}

/**
 * Lays a row out for storage: numeric features into `n[slot-1]`, categorical into `k[slot-1]`
 * (numbers written as text), and keys the config does not know, or a string where a number
 * belongs, into `x` so data-quality runs can report them.
 */
export function toStoredRow(
  row: PredictionRow & { label?: string | number | null },
  slots: ReadonlyMap<string, FeatureSlot>,
  counts: { num: number; cat: number },
): StoredRow {
  const n: (number | null)[] = new Array(counts.num).fill(null);
  const k: (string | null)[] = new Array(counts.cat).fill(null);
  let x: Record<string, unknown> | null = null;
  for (const name in row.features) {
    const value = row.features[name];
    const slot = slots.get(name);
    if (value === null || value === undefined) continue;
    if (slot?.type === "numeric" && typeof value === "number") n[slot.slot - 1] = value;
    else if (slot?.type === "categorical") k[slot.slot - 1] = String(value);
    else {
      x ??= {};
      x[name] = value;
    }
  }
  return {
    i: row.id,
    t: row.ts.toISOString(),
    v: row.model_version,
    p: String(row.prediction),
    c: row.confidence,
    n,
    k,
    x,
    ...(row.label !== undefined ? { l: row.label === null ? null : String(row.label) } : {}),
    ...(row.probabilities !== undefined ? { q: row.probabilities } : {}),
  };
}
