import { describe, expect, it } from "vitest";
import { readVector, vectorToBase64 } from "../../src/ingest/vector.js";

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
