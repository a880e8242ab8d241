import { describe, expect, it } from "vitest";
import { predictionBatchSchema } from "../../src/ingest/model.js";
import { validatePredictionBatch } from "../../src/ingest/validate.js";

const good = {
  id: "r1",
  ts: "2026-11-20T10:00:00Z",
  model_version: "v1",
  prediction: 1,
  confidence: 0.9,
  features: { amount: 12.5, channel: "web", missing: null },
};

// The hand-written hot-path validator and the zod schema must accept and refuse the same rows.
const cases: [string, unknown, string | null][] = [
  ["a good row", good, null],
  ["numeric id", { ...good, id: 42 }, null],
  ["offset time", { ...good, ts: "2026-11-20T10:00:00.123+01:00" }, null],
  ["string prediction", { ...good, prediction: "fraud" }, null],
  ["null confidence", { ...good, confidence: null }, null],
  ["empty id", { ...good, id: "" }, "id"],
  ["negative id", { ...good, id: -1 }, "id"],
  ["time without offset", { ...good, ts: "2026-11-20T10:00:00" }, "ts"],
  ["not a time", { ...good, ts: "yesterday" }, "ts"],
  ["missing version", { ...good, model_version: undefined }, "model_version"],
  ["object prediction", { ...good, prediction: {} }, "prediction"],
  ["confidence above 1", { ...good, confidence: 1.2 }, "confidence"],
  ["confidence as text", { ...good, confidence: "0.9" }, "confidence"],
  ["features not an object", { ...good, features: [1, 2] }, "features"],
  ["nested feature value", { ...good, features: { a: { b: 1 } } }, "features.a"],
  ["unknown key", { ...good, extra: 1 }, "extra"],
  ["probabilities", { ...good, prediction: "b", probabilities: { a: 0.2, b: 0.5, c: 0.3 } }, null],
  ["probabilities off by 1e-7", { ...good, probabilities: { "0": 0.3, "1": 0.7000001 } }, null],
  ["probabilities not summing to 1", { ...good, probabilities: { "0": 0.3, "1": 0.6 } }, "probabilities"],
  ["predicted class missing", { ...good, probabilities: { "0": 0.3, "2": 0.7 } }, "probabilities"],
  ["probability above 1", { ...good, probabilities: { "0": -0.5, "1": 1.5 } }, "probabilities"],
  ["probability as text", { ...good, probabilities: { "0": "0.3", "1": 0.7 } }, "probabilities"],
  ["one class only", { ...good, probabilities: { "1": 1 } }, "probabilities"],
  ["probabilities as an array", { ...good, probabilities: [0.3, 0.7] }, "probabilities"],
];

describe("prediction batch validation", () => {
  it.each(cases)("%s", (_name, row, field) => {
    const fast = validatePredictionBatch([good, row]);
    const zod = predictionBatchSchema.safeParse([good, row]);
    expect(zod.success).toBe(field === null);
    if (field === null) {
      expect("rows" in fast && fast.rows[1]).toEqual(zod.success ? zod.data[1] : undefined);
    } else {
      expect(fast).toEqual({ problem: expect.objectContaining({ row: 1, field }) });
    }
  });

  it("refuses a body that is not an array, an empty batch and one over 10,000 rows", () => {
    for (const body of [{}, [], Array.from({ length: 10_001 }, () => good)])
      expect(validatePredictionBatch(body)).toEqual({
        problem: expect.objectContaining({ row: null, field: "(batch)" }),
      });
  });
});
