/**
 * Embedding vectors in a prediction row: a JSON array of `dimensions` finite numbers, or the
 * base64 of their little-endian float32 bytes (4 × dimensions bytes). The base64 form is the fast
 * one: JSON.parse of 384 decimal floats costs more than everything else ingest does with a row.
 */

/** A vector read from a row, or the problem with it in words a caller can act on. */
export type VectorResult = { vector: ArrayLike<number> } | { problem: string };

/**
 * Reads one vector. A base64 string is decoded into `scratch` when given (a reusable buffer of
 * 4 × dimensions bytes, so ingest allocates nothing per row); the result then stays valid only
 * until the next call with the same scratch.
 */
export function readVector(value: unknown, dimensions: number, scratch?: Buffer): VectorResult {
  if (Array.isArray(value)) {
    if (value.length !== dimensions)
      return { problem: `expected a vector of ${dimensions} numbers, got ${value.length}` };
    for (let j = 0; j < dimensions; j++) {
      const x = value[j];
      if (typeof x !== "number" || !Number.isFinite(x))
        return { problem: `element ${j}: expected a finite number` };
    }
    return { vector: value as number[] };
  }
  if (typeof value === "string") {
    const bytes = dimensions * 4;
    if (value.length !== Math.ceil(bytes / 3) * 4)
      return { problem: `expected base64 of ${dimensions} float32 values (${bytes} bytes)` };
    const buf = scratch && scratch.length >= bytes ? scratch : Buffer.allocUnsafeSlow(bytes);
    if (buf.write(value, 0, bytes, "base64") !== bytes)
      return { problem: `expected base64 of ${dimensions} float32 values (${bytes} bytes)` };
    const v = new Float32Array(buf.buffer, buf.byteOffset, dimensions);
    for (let j = 0; j < dimensions; j++)
      if (!Number.isFinite(v[j] as number)) return { problem: `element ${j}: expected a finite number` };
    return { vector: v };
  }
  return { problem: `expected a vector of ${dimensions} numbers (a JSON array, or base64 of float32)` };
}

/** Base64 of a vector's little-endian float32 bytes, as a client sends it. */
export function vectorToBase64(v: ArrayLike<number>): string {
  return Buffer.from(Float32Array.from(v).buffer).toString("base64");
}
