/**
 * Maps the bodies of logged inferences to the parts of prediction rows, following the model's
 * `inference_logger` mapping: a request becomes features per instance, a response a prediction
 * (and confidence, and version when V2 names one) per instance. V1 bodies are `{"instances": […]}`
 * and `{"predictions": […]}`; V2 (Open Inference Protocol) bodies `{"inputs": [tensor…]}` and
 * `{"outputs": [tensor…]}`; Seldon Core's SeldonMessage (`{"data": {"ndarray": …}}`, see seldon.ts)
 * is read like V1. Each half is checked on its own, so a bad body is refused when it
 * arrives, not when its partner does.
 */
import type { InferenceLoggerConfig, PayloadLocator } from "../config/inference-logger.js";
import { MAX_BATCH_ROWS } from "../ingest/index.js";
import { isStorable } from "../shared/storable.js";
import { InvalidEventError } from "./errors.js";
import { seldonRows } from "./seldon.js";
import { readTensors, rowCount, type Tensor, tensorRow } from "./tensors.js";

/** A feature value as the ingest API takes it. */
export type FeatureValue = number | string | null;
/** A request half, mapped: the features of each instance. */
export interface RequestPart {
  rows: Record<string, FeatureValue>[];
}
/** A response half, mapped: each instance's prediction and confidence, and the version V2 names. */
export interface ResponsePart {
  version: string | null;
  rows: { p: number | string; c: number | null }[];
}

type Locator = PayloadLocator & { max?: boolean };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * One value of a V1 instance or prediction: by column (array), key (object, or an array whose
 * columns are named as a SeldonMessage names them) or itself (scalar).
 */
function pickV1(
  item: unknown,
  loc: Locator,
  fallbackKey: string | undefined,
  at: string,
  names: string[] | null = null,
): unknown {
  if (Array.isArray(item)) {
    if (loc.max) return maxOf(item, at);
    const named = names && (loc.key ?? (loc.column === undefined ? fallbackKey : undefined));
    if (names && named) {
      const index = names.indexOf(named);
      if (index < 0 || index >= item.length)
        throw new InvalidEventError(`${at}: no column named '${named}' in data.names`);
      return item[index];
    }
    if (loc.column === undefined) throw new InvalidEventError(`${at}: the value is an array; set column`);
    if (loc.column >= item.length)
      throw new InvalidEventError(`${at}: no column ${loc.column} (the array has ${item.length} values)`);
    return item[loc.column];
  }
  if (isObject(item)) {
    const key = loc.key ?? fallbackKey;
    if (key === undefined) throw new InvalidEventError(`${at}: the value is an object; set key`);
    return Object.hasOwn(item, key) ? item[key] : undefined;
  }
  return item;
}

function pickRow(row: unknown[], loc: Locator, at: string): unknown {
  if (loc.max) return maxOf(row, at);
  if (row.length === 1 && (loc.column ?? 0) === 0) return row[0];
  if (loc.column === undefined)
    throw new InvalidEventError(`${at}: the tensor has ${row.length} values per row; set column`);
  if (loc.column >= row.length)
    throw new InvalidEventError(`${at}: no column ${loc.column} (a row has ${row.length} values)`);
  return row[loc.column];
}

function maxOf(values: unknown[], at: string): number {
  if (values.length === 0 || !values.every((v) => typeof v === "number"))
    throw new InvalidEventError(`${at}: max needs a row of numbers`);
  return Math.max(...(values as number[]));
}

function featureValue(v: unknown, at: string): FeatureValue {
  if (v === null || v === undefined) return null;
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (typeof v === "boolean") return String(v);
  if (typeof v === "string" && v.length <= 1000 && isStorable(v)) return v;
  throw new InvalidEventError(`${at}: expected a number, a string of at most 1,000 characters, or null`);
}

function predictionValue(v: unknown, at: string): number | string {
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (typeof v === "boolean") return String(v);
  if (typeof v === "string" && v.length >= 1 && v.length <= 200 && isStorable(v)) return v;
  throw new InvalidEventError(`${at}: expected a number or a string of 1 to 200 characters`);
}

function confidenceValue(v: unknown, at: string): number {
  if (typeof v === "number" && v >= 0 && v <= 1) return v;
  throw new InvalidEventError(`${at}: expected a number from 0 to 1`);
}

function checkCount(n: number, what: string): void {
  if (n < 1 || n > MAX_BATCH_ROWS)
    throw new InvalidEventError(`${what}: expected 1 to ${MAX_BATCH_ROWS} instances; this one has ${n}`);
}

function tensorFor(tensors: Tensor[], name: string | undefined, at: string, fallback?: string): Tensor {
  if (name !== undefined) {
    const t = tensors.find((x) => x.name === name);
    if (!t) throw new InvalidEventError(`${at}: no tensor named '${name}'`);
    return t;
  }
  return tensors.find((x) => x.name === fallback) ?? (tensors[0] as Tensor);
}

/** Maps a request body; throws InvalidEventError naming the mapping key or body field at fault. */
export function mapRequest(body: unknown, mapping: InferenceLoggerConfig): RequestPart {
  const features = Object.entries(mapping.features);
  const seldon = seldonRows(body);
  const v1 = isObject(body) && Array.isArray(body.instances) ? body.instances : null;
  const instances = seldon?.items ?? v1;
  if (instances) {
    const where = seldon ? "data" : "instances";
    checkCount(instances.length, where);
    return {
      rows: instances.map((inst, i) =>
        Object.fromEntries(
          features.map(([name, loc]) => {
            const at = `${where}[${i}] (inference_logger.features.${name})`;
            return [name, featureValue(pickV1(inst, loc, name, at, seldon?.names), at)];
          }),
        ),
      ),
    };
  }
  if (isObject(body) && body.inputs !== undefined) {
    const tensors = readTensors(body.inputs, "inputs");
    const n = rowCount(tensors[0] as Tensor);
    checkCount(n, "inputs");
    const located = features.map(([name, loc]) => {
      const t = tensorFor(tensors, loc.tensor, `inference_logger.features.${name}.tensor`, name);
      if (rowCount(t) !== n)
        throw new InvalidEventError(
          `inputs: tensor '${t.name}' has ${rowCount(t)} rows, '${tensors[0]?.name}' ${n}`,
        );
      return { name, loc, t };
    });
    return {
      rows: Array.from({ length: n }, (_, i) =>
        Object.fromEntries(
          located.map(({ name, loc, t }) => {
            const at = `inputs '${t.name}' row ${i} (inference_logger.features.${name})`;
            return [name, featureValue(pickRow(tensorRow(t, i), loc, at), at)];
          }),
        ),
      ),
    };
  }
  throw new InvalidEventError(
    'the request body is neither V1 ({"instances": [...]}), V2 ({"inputs": [tensor...]}) nor a SeldonMessage ({"data": {"ndarray": [...]}})',
  );
}

/** Maps a response body; throws InvalidEventError naming the mapping key or body field at fault. */
export function mapResponse(body: unknown, mapping: InferenceLoggerConfig): ResponsePart {
  const conf = mapping.confidence;
  const seldon = seldonRows(body);
  const v1 = isObject(body) && Array.isArray(body.predictions) ? body.predictions : null;
  const predictions = seldon?.items ?? v1;
  if (predictions) {
    const where = seldon ? "data" : "predictions";
    const names = seldon?.names ?? null;
    checkCount(predictions.length, where);
    return {
      version: null,
      rows: predictions.map((pred, i) => {
        const at = `${where}[${i}]`;
        const p = predictionValue(
          pickV1(pred, mapping.prediction, undefined, `${at} (inference_logger.prediction)`, names),
          at,
        );
        const c = conf
          ? confidenceValue(pickV1(pred, conf, undefined, `${at} (inference_logger.confidence)`, names), at)
          : null;
        return { p, c };
      }),
    };
  }
  if (isObject(body) && body.outputs !== undefined) {
    const tensors = readTensors(body.outputs, "outputs");
    const pt = tensorFor(tensors, mapping.prediction.tensor, "inference_logger.prediction.tensor");
    const ct = conf ? tensorFor(tensors, conf.tensor, "inference_logger.confidence.tensor") : null;
    const n = rowCount(pt);
    checkCount(n, "outputs");
    if (ct && rowCount(ct) !== n)
      throw new InvalidEventError(`outputs: tensor '${ct.name}' has ${rowCount(ct)} rows, '${pt.name}' ${n}`);
    const version = typeof body.model_version === "string" && body.model_version ? body.model_version : null;
    if (version !== null && (version.length > 100 || !isStorable(version)))
      throw new InvalidEventError("model_version: expected at most 100 characters");
    return {
      version,
      rows: Array.from({ length: n }, (_, i) => {
        const at = `outputs '${pt.name}' row ${i}`;
        const p = predictionValue(
          pickRow(tensorRow(pt, i), mapping.prediction, `${at} (inference_logger.prediction)`),
          at,
        );
        const c =
          ct && conf
            ? confidenceValue(
                pickRow(
                  tensorRow(ct, i),
                  conf,
                  `outputs '${ct.name}' row ${i} (inference_logger.confidence)`,
                ),
                `outputs '${ct.name}' row ${i}`,
              )
            : null;
        return { p, c };
      }),
    };
  }
  throw new InvalidEventError(
    'the response body is neither V1 ({"predictions": [...]}), V2 ({"outputs": [tensor...]}) nor a SeldonMessage ({"data": {"ndarray": [...]}})',
  );
}
