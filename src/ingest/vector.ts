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

/** An embedding feature of a model: its name and vector length (config `features[]`, type embedding). */
export interface EmbeddingSpec {
  name: string;
  dimensions: number;
}

/**
 * One embedding feature's vectors of a batch, row-major: row i's vector is
 * `data[i * dimensions .. (i + 1) * dimensions)`, valid when `present[i]` is 1 (0: none sent).
 */
export interface VectorColumn {
  name: string;
  dimensions: number;
  data: Float32Array;
  present: Uint8Array;
}

/**
 * Why `value` is not a vector of `dimensions` finite numbers, or null when it is; when it is, its
 * values are written into `target` at `offset` (float32). The one rule of both ingest validators.
 */
export function writeVector(
  value: unknown,
  dimensions: number,
  target: Float32Array,
  offset: number,
  bytesOfTarget?: Buffer,
): string | null {
  if (Array.isArray(value)) {
    if (value.length !== dimensions) return `expected a vector of ${dimensions} numbers, got ${value.length}`;
    for (let j = 0; j < dimensions; j++) {
      const x = value[j];
      if (typeof x !== "number" || !Number.isFinite(x)) return `element ${j}: expected a finite number`;
      target[offset + j] = x;
      if (!Number.isFinite(target[offset + j] as number)) return `element ${j}: out of the float32 range`;
    }
    return null;
  }
  if (typeof value === "string") {
    const bytes = dimensions * 4;
    const wrong = `expected base64 of ${dimensions} float32 values (${bytes} bytes)`;
    if (value.length !== Math.ceil(bytes / 3) * 4) return wrong;
    // Decoded straight into the target's bytes (little-endian float32 on every platform Node runs on).
    const view = bytesOfTarget ?? Buffer.from(target.buffer, target.byteOffset, target.byteLength);
    if (view.write(value, offset * 4, bytes, "base64") !== bytes) return wrong;
    for (let j = 0; j < dimensions; j++)
      if (!Number.isFinite(target[offset + j] as number)) return `element ${j}: expected a finite number`;
    return null;
  }
  return `expected a vector of ${dimensions} numbers (a JSON array, or base64 of float32)`;
}

/**
 * Takes the embedding vectors out of a batch body before it is validated: each row's value of each
 * embedding feature is checked (writeVector) and copied into the feature's column, and the row's
 * value is set to null, so the vector is never stored with the row (nor counted as an extra key).
 * Rows that are not objects with a features object are left to the batch validator. Returns the
 * first problem with its row index and field; the body is then not to be stored at all.
 */
export function takeVectors(
  body: unknown,
  specs: readonly EmbeddingSpec[],
): { columns: VectorColumn[] } | { problem: { row: number; field: string; message: string } } {
  if (!Array.isArray(body) || specs.length === 0) return { columns: [] };
  const columns = specs.map(
    (s): VectorColumn => ({
      name: s.name,
      dimensions: s.dimensions,
      data: new Float32Array(body.length * s.dimensions),
      present: new Uint8Array(body.length),
    }),
  );
  // One byte view per column for the whole batch: base64 vectors are decoded without a per-row object.
  const bytes = columns.map((c) => Buffer.from(c.data.buffer, c.data.byteOffset, c.data.byteLength));
  for (let i = 0; i < body.length; i++) {
    const row = body[i] as { features?: unknown } | null;
    if (typeof row !== "object" || row === null) continue;
    const features = row.features as Record<string, unknown> | null | undefined;
    if (typeof features !== "object" || features === null || Array.isArray(features)) continue;
    for (let k = 0; k < columns.length; k++) {
      const c = columns[k] as VectorColumn;
      const value = features[c.name];
      if (value === null || value === undefined) continue;
      const problem = writeVector(value, c.dimensions, c.data, i * c.dimensions, bytes[k]);
      if (problem) return { problem: { row: i, field: `features.${c.name}`, message: problem } };
      c.present[i] = 1;
      features[c.name] = null;
    }
  }
  return { columns };
}

/** Row `i`'s vector of a column, as a view (no copy), or null when the row sent none. */
export function vectorAt(c: VectorColumn, i: number): Float32Array | null {
  return c.present[i] ? c.data.subarray(i * c.dimensions, (i + 1) * c.dimensions) : null;
}
