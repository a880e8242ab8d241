/**
 * The hot-path validator of prediction batches: the same rules as `predictionRowSchema`, checked
 * by hand because a 10,000-row batch through zod costs ~90 ms of CPU, more than the insert's
 * share of the bot's time. The first problem is reported with its row index and field.
 */
import { isStorable, UNSTORABLE_MESSAGE } from "../shared/storable.js";
import { MAX_BATCH_ROWS, type PredictionRow } from "./model.js";
import { probabilitiesProblem } from "./probabilities.js";

/** A problem with one row (row null: with the batch as a whole). */
export interface BatchProblem {
  row: number | null;
  field: string;
  message: string;
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
const KEYS = new Set(["id", "ts", "model_version", "prediction", "confidence", "features", "probabilities"]);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function checkRow(raw: unknown, i: number): PredictionRow | BatchProblem {
  if (!isPlainObject(raw)) return { row: i, field: "(row)", message: "expected an object" };
  for (const k in raw) if (!KEYS.has(k)) return { row: i, field: k, message: "unknown key" };
  const { id, ts, model_version: version, prediction, confidence, features, probabilities } = raw;
  let rid: string;
  if (typeof id === "string" && id.length >= 1 && id.length <= 200) {
    if (!isStorable(id)) return { row: i, field: "id", message: UNSTORABLE_MESSAGE };
    rid = id;
  } else if (typeof id === "number" && Number.isInteger(id) && id >= 0) rid = String(id);
  else
    return {
      row: i,
      field: "id",
      message: "expected a string of 1 to 200 characters or a non-negative integer",
    };
  if (typeof ts !== "string" || !ISO.test(ts))
    return {
      row: i,
      field: "ts",
      message: "expected an ISO 8601 date-time with a UTC offset, e.g. 2026-11-20T10:00:00Z",
    };
  const at = new Date(ts);
  if (Number.isNaN(at.getTime())) return { row: i, field: "ts", message: "not a valid date-time" };
  if (typeof version !== "string" || version.length < 1 || version.length > 100)
    return { row: i, field: "model_version", message: "expected a string of 1 to 100 characters" };
  if (!isStorable(version)) return { row: i, field: "model_version", message: UNSTORABLE_MESSAGE };
  if (
    !(typeof prediction === "number" && Number.isFinite(prediction)) &&
    !(typeof prediction === "string" && prediction.length >= 1 && prediction.length <= 200)
  )
    return { row: i, field: "prediction", message: "expected a number or a string of 1 to 200 characters" };
  if (typeof prediction === "string" && !isStorable(prediction))
    return { row: i, field: "prediction", message: UNSTORABLE_MESSAGE };
  if (confidence !== null && !(typeof confidence === "number" && confidence >= 0 && confidence <= 1))
    return { row: i, field: "confidence", message: "expected a number from 0 to 1, or null" };
  if (!isPlainObject(features))
    return { row: i, field: "features", message: "expected an object of feature values" };
  for (const name in features) {
    const v = features[name];
    if (name.length < 1 || name.length > 100)
      return {
        row: i,
        field: `features.${name.slice(0, 40)}`,
        message: "feature names have 1 to 100 characters",
      };
    if (!isStorable(name))
      return { row: i, field: `features.${name.slice(0, 40)}`, message: `the name ${UNSTORABLE_MESSAGE}` };
    if (v === null || (typeof v === "number" && Number.isFinite(v))) continue;
    if (typeof v === "string" && v.length <= 1000) {
      if (isStorable(v)) continue;
      return { row: i, field: `features.${name}`, message: UNSTORABLE_MESSAGE };
    }
    return {
      row: i,
      field: `features.${name}`,
      message: "expected a number, a string of at most 1,000 characters, or null",
    };
  }
  if (probabilities !== undefined) {
    const message = probabilitiesProblem(probabilities, prediction);
    if (message) return { row: i, field: "probabilities", message };
  }
  return {
    id: rid,
    ts: at,
    model_version: version,
    prediction: prediction as number | string,
    confidence: confidence as number | null,
    features: features as Record<string, number | string | null>,
    ...(probabilities !== undefined ? { probabilities: probabilities as Record<string, number> } : {}),
  };
}

/** Validates a whole predictions body; returns the rows or the first problem. */
export function validatePredictionBatch(
  body: unknown,
): { rows: PredictionRow[] } | { problem: BatchProblem } {
  if (!Array.isArray(body))
    return {
      problem: {
        row: null,
        field: "(batch)",
        message: `the body must be a JSON array of 1 to ${MAX_BATCH_ROWS} rows`,
      },
    };
  if (body.length < 1 || body.length > MAX_BATCH_ROWS)
    return {
      problem: {
        row: null,
        field: "(batch)",
        message: `a batch has 1 to ${MAX_BATCH_ROWS} rows; this one has ${body.length}`,
      },
    };
  const rows: PredictionRow[] = new Array(body.length);
  for (let i = 0; i < body.length; i++) {
    const r = checkRow(body[i], i);
    if ("message" in r) return { problem: r };
    rows[i] = r;
  }
  return { rows };
}
