/**
 * Seldon Core's own (v1) protocol, the SeldonMessage: `{"data": {"names": [...], "ndarray": [[...]]}}`
 * or `{"data": {"names": [...], "tensor": {"shape": [n, k], "values": [...]}}}`, in requests and
 * responses alike. Its rows are read like V1 instances, and `names` lets a mapping's `key` (or a
 * feature's own name) pick a column.
 */
import { InvalidEventError } from "./errors.js";
import { readTensors, rowCount, tensorRow } from "./tensors.js";

/** Rows of a SeldonMessage and its column names. */
export interface SeldonRows {
  items: unknown[];
  names: string[] | null;
}

/** The rows of `body` when it is a SeldonMessage with `ndarray` or `tensor` data; null otherwise. */
export function seldonRows(body: unknown): SeldonRows | null {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return null;
  const data = (body as { data?: unknown }).data;
  if (typeof data !== "object" || data === null || Array.isArray(data)) return null;
  const { names, ndarray, tensor } = data as { names?: unknown; ndarray?: unknown; tensor?: unknown };
  if (ndarray === undefined && tensor === undefined) return null;
  if (names !== undefined && !(Array.isArray(names) && names.every((n) => typeof n === "string")))
    throw new InvalidEventError("data.names: expected an array of strings");
  const columns = (names as string[] | undefined) ?? null;
  if (ndarray !== undefined) {
    if (!Array.isArray(ndarray)) throw new InvalidEventError("data.ndarray: expected an array of rows");
    // A flat array as long as several names is one row (`{"names": ["f0", "f1"], "ndarray": [0.7, 0.6]}`).
    const oneRow =
      columns !== null &&
      columns.length > 1 &&
      ndarray.length === columns.length &&
      !ndarray.some(Array.isArray);
    return { items: oneRow ? [ndarray] : ndarray, names: columns };
  }
  const { shape, values } = (tensor ?? {}) as { shape?: unknown; values?: unknown };
  const [t] = readTensors([{ name: "data.tensor", shape, data: values }], "inputs");
  if (!t) throw new InvalidEventError("data.tensor: expected {shape, values}");
  return { items: Array.from({ length: rowCount(t) }, (_, i) => tensorRow(t, i)), names: columns };
}
