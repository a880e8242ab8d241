/**
 * Open Inference Protocol (V2) tensors as rows: `{name, shape, datatype, data}` where `data` is
 * flat in row-major order or nested like the shape (both are sent in practice), and row `i` of a
 * tensor of shape [n, k…] is its `i`-th block of k… values.
 */
import { InvalidEventError } from "./errors.js";

/** A tensor with its data flattened. */
export interface Tensor {
  name: string;
  shape: number[];
  data: unknown[];
}

/** Largest number of values read from one tensor. */
const MAX_VALUES = 10_000_000;

function flatten(value: unknown, out: unknown[], depth = 0): void {
  if (depth > 32) throw new InvalidEventError("tensor data is nested too deep");
  if (!Array.isArray(value)) {
    out.push(value);
    return;
  }
  for (const v of value) {
    flatten(v, out, depth + 1);
    if (out.length > MAX_VALUES) throw new InvalidEventError("tensor has too many values");
  }
}

/** Reads the `inputs` or `outputs` list of a V2 body; throws naming the first bad tensor. */
export function readTensors(list: unknown, where: "inputs" | "outputs"): Tensor[] {
  if (!Array.isArray(list) || list.length === 0)
    throw new InvalidEventError(`${where}: expected a non-empty array of tensors`);
  return list.map((t, i) => {
    const at = `${where}[${i}]`;
    if (typeof t !== "object" || t === null) throw new InvalidEventError(`${at}: expected a tensor object`);
    const { name, shape, data } = t as Record<string, unknown>;
    if (typeof name !== "string" || name.length === 0) throw new InvalidEventError(`${at}.name: required`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0))
      throw new InvalidEventError(`${at}.shape: expected an array of non-negative integers`);
    const flat: unknown[] = [];
    flatten(data, flat);
    const size = (shape as number[]).reduce((a, b) => a * b, 1);
    if (flat.length !== size)
      throw new InvalidEventError(
        `${at}.data: ${flat.length} values do not fill shape [${shape.join(", ")}]`,
      );
    return { name, shape: shape as number[], data: flat };
  });
}

/** Rows of a tensor: its first dimension (a scalar tensor is one row). */
export function rowCount(t: Tensor): number {
  return t.shape.length === 0 ? 1 : (t.shape[0] as number);
}

/** The values of row `i`. */
export function tensorRow(t: Tensor, i: number): unknown[] {
  const width = t.shape.slice(1).reduce((a, b) => a * b, 1);
  return t.data.slice(i * width, (i + 1) * width);
}
