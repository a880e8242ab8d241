import { describe, expect, it } from "vitest";
import { predictionBatchSchema } from "../../src/ingest/model.js";
import { validatePredictionBatch } from "../../src/ingest/validate.js";
import {
  readVector,
  takeVectors,
  type VectorColumn,
  vectorAt,
  vectorToBase64,
  writeVector,
} from "../../src/ingest/vector.js";

describe("reading an embedding vector from a row", () => {
  it("takes a JSON array of the configured length", () => {
    expect(readVector([0.5, -1, 2], 3)).toEqual({ vector: [0.5, -1, 2] });
  });

  it("refuses a wrong length, naming both lengths", () => {
    expect(readVector([1, 2], 3)).toEqual({ problem: "expected a vector of 3 numbers, got 2" });
  });

  it("refuses an element that is not a finite number, naming it", () => {
    expect(readVector([1, "2", 3], 3)).toEqual({ problem: "element 1: expected a finite number" });
  });

  it("decodes base64 float32 to the same values (to float32 precision), into a reused scratch", () => {
    const scratch = Buffer.allocUnsafeSlow(16);
    const read = readVector(vectorToBase64([0.25, -3.5, 1e-3, 7]), 4, scratch);
    expect("vector" in read && Array.from(read.vector)).toEqual([0.25, -3.5, Math.fround(1e-3), 7]);
    expect("vector" in read && (read.vector as Float32Array).buffer).toBe(scratch.buffer);
  });

  it("refuses base64 of the wrong size, and a NaN inside it", () => {
    expect(readVector(vectorToBase64([1, 2, 3]), 4)).toEqual({
      problem: "expected base64 of 4 float32 values (16 bytes)",
    });
    expect(readVector(vectorToBase64([1, Number.NaN]), 2)).toEqual({
      problem: "element 1: expected a finite number",
    });
  });

  it("refuses anything else", () => {
    expect("problem" in readVector(3, 4)).toBe(true);
    expect("problem" in readVector(null, 4)).toBe(true);
  });
});

describe("taking a batch's embedding vectors out before validation", () => {
  const specs = [{ name: "text", dimensions: 3 }];
  const row = (text: unknown) => ({ id: "a", features: { amount: 1, text } });

  it("copies each row's vector (array or base64) into the feature's column and leaves null in the row", () => {
    const body = [row([0.5, -1, 2]), row(null), row(vectorToBase64([1, 2, 3]))];
    const taken = takeVectors(body, specs);
    expect("columns" in taken).toBe(true);
    if (!("columns" in taken)) return;
    const [c] = taken.columns;
    expect(Array.from(c?.present ?? [])).toEqual([1, 0, 1]);
    expect(Array.from(vectorAt(c as VectorColumn, 0) ?? [])).toEqual([0.5, -1, 2]);
    expect(vectorAt(c as VectorColumn, 1)).toBeNull();
    expect(Array.from(vectorAt(c as VectorColumn, 2) ?? [])).toEqual([1, 2, 3]);
    expect(body.map((r) => r.features.text)).toEqual([null, null, null]);
  });

  it("names the first bad row and the feature: wrong length, a non-number, a value float32 cannot hold", () => {
    const problem = (text: unknown) => takeVectors([row([1, 2, 3]), row(text)], specs);
    expect(problem([1, 2])).toEqual({
      problem: { row: 1, field: "features.text", message: "expected a vector of 3 numbers, got 2" },
    });
    expect(problem([1, null, 3])).toMatchObject({
      problem: { row: 1, message: "element 1: expected a finite number" },
    });
    expect(problem([1, 2, 1e39])).toMatchObject({
      problem: { row: 1, message: "element 2: out of the float32 range" },
    });
    expect(problem({ x: 1 })).toMatchObject({ problem: { row: 1, field: "features.text" } });
  });

  it("writeVector is the rule: the same message as readVector for the same value", () => {
    const target = new Float32Array(3);
    for (const value of [[1, 2], [1, "2", 3], vectorToBase64([1, 2]), 7])
      expect(writeVector(value, 3, target, 0)).toBe((readVector(value, 3) as { problem: string }).problem);
  });

  it("an array sent for a feature that is not an embedding is refused by both validators", () => {
    const good = {
      id: "a",
      ts: "2026-12-01T00:00:00Z",
      model_version: "v1",
      prediction: "1",
      confidence: 0.9,
      features: { amount: [1, 2, 3] },
    };
    expect(validatePredictionBatch([good])).toMatchObject({ problem: { row: 0, field: "features.amount" } });
    expect(predictionBatchSchema.safeParse([good]).success).toBe(false);
  });
});
