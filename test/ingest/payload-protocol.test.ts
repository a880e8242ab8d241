import { describe, expect, it } from "vitest";
import { configSchema } from "../../src/config/index.js";
import type { InferenceLoggerConfig } from "../../src/config/inference-logger.js";
import {
  type LoggedEvent,
  mapRequest,
  mapResponse,
  pairRows,
  parseLoggedEvent,
} from "../../src/payload-log/index.js";
import type { HalvesRow } from "../../src/payload-log/model.js";
import { IRIS_FEATURES, irisConfigInput, kserveEvent } from "../helpers/cloudevents.js";

const columns = Object.fromEntries(IRIS_FEATURES.map((name, i) => [name, { column: i }]));
const mapping = (over: Partial<InferenceLoggerConfig> = {}): InferenceLoggerConfig => ({
  inference_service: "sklearn-iris",
  features: columns,
  prediction: {},
  ...over,
});

function parse(name: string, headers: Record<string, string | undefined> = {}, body?: string): LoggedEvent {
  const f = kserveEvent(name, headers);
  return parseLoggedEvent(f.headers, body ?? JSON.stringify(f.body));
}

describe("reading a logged CloudEvent", () => {
  it("reads KServe's documented V1 request: id, half, service, namespace, time and the JSON body", () => {
    const e = parse("v1-request");
    expect(e).toEqual({
      id: "0009174a-24a8-4603-b098-09c8799950e9",
      half: "request",
      service: "sklearn-iris",
      namespace: "default",
      source: "http://localhost:9081/",
      time: new Date("2021-04-10T00:23:26.078Z"),
      data: {
        instances: [
          [6.8, 2.8, 4.8, 1.4],
          [6.0, 3.4, 4.5, 1.6],
        ],
      },
    });
    expect(parse("v1-response").half).toBe("response");
  });

  it("takes Seldon Core's event types and its CloudEvents 0.3 headers", () => {
    const e = parse("v1-response", {
      "ce-specversion": "0.3",
      "ce-type": "io.seldon.serving.inference.response",
    });
    expect(e.half).toBe("response");
  });

  it("parses the body as JSON whatever content type the logger copied from the caller", () => {
    const e = parse("v1-request", { "content-type": "application/x-www-form-urlencoded" });
    expect(e.data).toEqual({
      instances: [
        [6.8, 2.8, 4.8, 1.4],
        [6.0, 3.4, 4.5, 1.6],
      ],
    });
  });

  it("takes an event without ce-time (the time is then when the first half arrived)", () => {
    expect(parse("v1-request", { "ce-time": undefined }).time).toBeNull();
  });

  it("reads structured mode too", () => {
    const f = kserveEvent("v1-request");
    const structured = {
      specversion: "1.0",
      id: "s-1",
      type: "org.kubeflow.serving.inference.request",
      source: "http://localhost:9081/",
      inferenceservicename: "sklearn-iris",
      datacontenttype: "application/json",
      data: f.body,
    };
    const e = parseLoggedEvent(
      { "content-type": "application/cloudevents+json" },
      JSON.stringify(structured),
    );
    expect(e).toMatchObject({ id: "s-1", half: "request", service: "sklearn-iris" });
  });

  it.each([
    [
      "no ce-inferenceservicename",
      { "ce-inferenceservicename": undefined },
      /ce-inferenceservicename: required/,
    ],
    ["a ce-id too long for a row id", { "ce-id": "x".repeat(181) }, /ce-id: expected 1 to 180 characters/],
    ["a bad ce-time", { "ce-time": "yesterday" }, /ce-time/],
    [
      "no ce-* headers",
      { "ce-id": undefined, "ce-type": undefined, "ce-specversion": undefined },
      /not a CloudEvent/,
    ],
  ])("refuses an event with %s", (_what, headers, message) => {
    expect(() => parse("v1-request", headers)).toThrow(message);
  });
});

describe("mapping V1 bodies", () => {
  it("takes features by column from array instances and the prediction from scalar predictions", () => {
    expect(mapRequest(parse("v1-request").data, mapping())).toEqual({
      rows: [
        { sepal_length: 6.8, sepal_width: 2.8, petal_length: 4.8, petal_width: 1.4 },
        { sepal_length: 6.0, sepal_width: 3.4, petal_length: 4.5, petal_width: 1.6 },
      ],
    });
    expect(mapResponse(parse("v1-response").data, mapping())).toEqual({
      version: null,
      rows: [
        { p: 1, c: null },
        { p: 1, c: null },
      ],
    });
  });

  it("takes object instances by key (the feature's own name by default; a missing key is a missing value)", () => {
    const m = mapping({ features: { amount: {}, country: { key: "cc" } } });
    expect(mapRequest({ instances: [{ amount: 12.5, cc: "DE" }, { cc: "FR" }] }, m).rows).toEqual([
      { amount: 12.5, country: "DE" },
      { amount: null, country: "FR" },
    ]);
  });

  it("takes prediction and confidence from object predictions, or the largest probability with max", () => {
    const m = mapping({ prediction: { key: "label" }, confidence: { key: "score", max: false } });
    expect(mapResponse({ predictions: [{ label: "fraud", score: 0.93 }] }, m).rows).toEqual([
      { p: "fraud", c: 0.93 },
    ]);
    const probs = mapping({ prediction: { column: 0 }, confidence: { max: true } });
    expect(mapResponse({ predictions: [[0.1, 0.7, 0.2]] }, probs).rows).toEqual([{ p: 0.1, c: 0.7 }]);
  });

  it.each([
    [
      "an array instance with no column mapped",
      { instances: [[1, 2]] },
      mapping({ features: { a: {} } }),
      /features\.a\): the value is an array; set column/,
    ],
    [
      "a nested value as a feature",
      { instances: [[[1], 2, 3, 4]] },
      mapping(),
      /expected a number, a string/,
    ],
    ["no instances", { instances: [] }, mapping(), /instances: expected 1 to 10000 instances/],
  ])("refuses a request with %s", (_what, body, m, message) => {
    expect(() => mapRequest(body, m)).toThrow(message);
  });

  it("refuses a confidence outside 0..1", () => {
    const m = mapping({ confidence: { key: "score", max: false }, prediction: { key: "label" } });
    expect(() => mapResponse({ predictions: [{ label: 1, score: 7 }] }, m)).toThrow(
      /expected a number from 0 to 1/,
    );
  });
});

describe("mapping Seldon Core SeldonMessage bodies", () => {
  // Request body of Seldon Core's request-logger test (SeldonIO/seldon-core, testing/scripts,
  // iris deployment); response body of seldon-request-logger/README.md's example document.
  const request = {
    data: {
      names: ["SL", "SW", "PL", "PW"],
      ndarray: [
        [6.8, 2.8, 4.8, 1.4],
        [6.1, 3.4, 4.5, 1.6],
      ],
    },
  };
  const response = { meta: {}, data: { names: ["proba"], ndarray: [[0.1951846770138402]] } };

  it("reads ndarray rows, by column or by the names Seldon gives the columns", () => {
    const byName = mapping({ features: { sepal_length: { key: "SL" }, petal_width: { key: "PW" } } });
    expect(mapRequest(request, byName).rows).toEqual([
      { sepal_length: 6.8, petal_width: 1.4 },
      { sepal_length: 6.1, petal_width: 1.6 },
    ]);
    expect(mapRequest(request, mapping()).rows[1]).toMatchObject({ sepal_length: 6.1, petal_width: 1.6 });
    expect(mapResponse(response, mapping({ prediction: { key: "proba" } })).rows).toEqual([
      { p: 0.1951846770138402, c: null },
    ]);
  });

  it("reads a tensor, and a flat ndarray as long as its names as one row", () => {
    const tensor = { data: { names: ["a", "b"], tensor: { shape: [2, 2], values: [1, 2, 3, 4] } } };
    expect(mapRequest(tensor, mapping({ features: { b: {} } })).rows).toEqual([{ b: 2 }, { b: 4 }]);
    const flat = { data: { names: ["f0", "f1"], ndarray: [0.77, 0.63] } };
    expect(mapRequest(flat, mapping({ features: { f1: {} } })).rows).toEqual([{ f1: 0.63 }]);
  });

  it("refuses a mapped name Seldon did not send", () => {
    expect(() => mapRequest(request, mapping({ features: { x: { key: "XX" } } }))).toThrow(
      /data\[0\] \(inference_logger\.features\.x\): no column named 'XX' in data\.names/,
    );
  });
});

describe("mapping Open Inference Protocol (V2) bodies", () => {
  it("reads KServe's documented sklearn-v2-iris tensors (nested data, shape [2, 4]) and the response's model_version", () => {
    expect(mapRequest(parse("v2-request").data, mapping()).rows[1]).toEqual({
      sepal_length: 6.0,
      sepal_width: 3.4,
      petal_length: 4.5,
      petal_width: 1.6,
    });
    expect(mapResponse(parse("v2-response").data, mapping())).toEqual({
      version: "v1.0.0",
      rows: [
        { p: 1, c: null },
        { p: 1, c: null },
      ],
    });
  });

  it("reads flat data and one tensor per feature (found by the feature's name)", () => {
    const body = {
      inputs: [
        { name: "amount", shape: [2], datatype: "FP64", data: [10, 20] },
        { name: "country", shape: [2, 1], datatype: "BYTES", data: ["DE", "FR"] },
      ],
    };
    expect(mapRequest(body, mapping({ features: { amount: {}, country: {} } })).rows).toEqual([
      { amount: 10, country: "DE" },
      { amount: 20, country: "FR" },
    ]);
  });

  it("takes the prediction and confidence from named output tensors", () => {
    const body = {
      outputs: [
        { name: "label", shape: [2], datatype: "INT64", data: [0, 2] },
        { name: "probabilities", shape: [2, 3], datatype: "FP32", data: [0.8, 0.1, 0.1, 0.2, 0.2, 0.6] },
      ],
    };
    const m = mapping({
      prediction: { tensor: "label" },
      confidence: { tensor: "probabilities", max: true },
    });
    expect(mapResponse(body, m).rows).toEqual([
      { p: 0, c: 0.8 },
      { p: 2, c: 0.6 },
    ]);
  });

  it.each([
    [
      "a mapped tensor that is not there",
      { inputs: [{ name: "x", shape: [1, 4], datatype: "FP32", data: [1, 2, 3, 4] }] },
      mapping({ features: { a: { tensor: "input-0", column: 0 } } }),
      /features\.a\.tensor: no tensor named 'input-0'/,
    ],
    [
      "a wide tensor with no column mapped",
      { inputs: [{ name: "x", shape: [1, 4], datatype: "FP32", data: [1, 2, 3, 4] }] },
      mapping({ features: { a: {} } }),
      /4 values per row; set column/,
    ],
    [
      "tensors of different row counts",
      {
        inputs: [
          { name: "a", shape: [2], datatype: "FP32", data: [1, 2] },
          { name: "b", shape: [1], datatype: "FP32", data: [1] },
        ],
      },
      mapping({ features: { a: {}, b: {} } }),
      /tensor 'b' has 1 rows, 'a' 2/,
    ],
    [
      "a bad shape",
      { inputs: [{ name: "a", shape: [-1], datatype: "FP32", data: [] }] },
      mapping({ features: { a: {} } }),
      /inputs\[0\]\.shape/,
    ],
  ])("refuses a request with %s", (_what, body, m, message) => {
    expect(() => mapRequest(body, m)).toThrow(message);
  });
});

describe("pairing", () => {
  const row = (over: Partial<HalvesRow> = {}): HalvesRow => ({
    eventId: "ev",
    request: { rows: [{ a: 1 }] },
    requestTime: null,
    response: { version: null, rows: [{ p: 1, c: 0.9 }] },
    responseTime: null,
    receivedAt: new Date("2026-12-07T10:00:00Z"),
    pairedAt: null,
    expiredAt: null,
    ...over,
  });

  it("a single instance keeps the ce-id as its id; a batch gets <ce-id>#<index>", () => {
    expect(pairRows(row(), "v1").map((r) => r.id)).toEqual(["ev"]);
    const two = row({
      request: { rows: [{ a: 1 }, { a: 2 }] },
      response: {
        version: null,
        rows: [
          { p: 1, c: null },
          { p: 0, c: null },
        ],
      },
    });
    expect(pairRows(two, "v1").map((r) => r.id)).toEqual(["ev#0", "ev#1"]);
  });

  it("the time is the request's ce-time, else the response's, else when the first half arrived", () => {
    const req = new Date("2026-12-07T09:00:00Z");
    const res = new Date("2026-12-07T09:00:01Z");
    expect(pairRows(row({ requestTime: req, responseTime: res }), "v1")[0]?.ts).toBe(req.toISOString());
    expect(pairRows(row({ responseTime: res }), "v1")[0]?.ts).toBe(res.toISOString());
    expect(pairRows(row(), "v1")[0]?.ts).toBe("2026-12-07T10:00:00.000Z");
  });

  it("the version is the one the response names, else the configured one", () => {
    expect(pairRows(row(), "v7")[0]?.model_version).toBe("v7");
    expect(
      pairRows(row({ response: { version: "2.1", rows: [{ p: 1, c: null }] } }), "v7")[0]?.model_version,
    ).toBe("2.1");
  });

  it("refuses a response with a different number of predictions than its request's instances", () => {
    expect(() => pairRows(row({ response: { version: null, rows: [] } }), "v1")).toThrow(
      /1 instance\(s\) and its response 0/,
    );
  });
});

describe("the ingest.cloudevents and inference_logger config", () => {
  const check = (sections: Record<string, unknown>) => configSchema.safeParse(irisConfigInput(sections));
  it("takes IPs and CIDR ranges in allow_from and refuses anything else", () => {
    expect(
      check({ ingest: { cloudevents: { allow_from: ["10.0.0.0/8", "fd00::/8", "192.0.2.1"] } } }).success,
    ).toBe(true);
    for (const bad of ["10.0.0.0/33", "example.com", "10.0.0/8", "1.2.3.4/8/1"]) {
      const r = check({ ingest: { cloudevents: { allow_from: [bad] } } });
      expect(r.success, bad).toBe(false);
    }
  });

  it("defaults to a 5 minute window, 7 days kept and no allowlist", () => {
    const r = check({});
    expect(r.success && r.data.ingest.cloudevents).toEqual({
      pair_window: 300_000,
      keep: 604_800_000,
      allow_from: [],
    });
  });

  it("refuses a confidence with both a column and max", () => {
    const input = irisConfigInput();
    const models = input.models as { inference_logger?: Record<string, unknown> }[];
    (models[0] as { inference_logger: Record<string, unknown> }).inference_logger.confidence = {
      column: 1,
      max: true,
    };
    const r = configSchema.safeParse(input);
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(["models", 0, "inference_logger", "confidence", "max"]);
  });
});
