/**
 * The per-model mapping of KServe / Seldon payload-logging CloudEvents (`models[].inference_logger`):
 * which InferenceService is this model, and where each feature, the prediction and the confidence
 * sit in V1 (`instances`/`predictions`) and Open Inference Protocol V2 (`inputs`/`outputs`) bodies.
 */
import { z } from "zod";

/** Where one value sits in an instance (V1) or in a row of a tensor (V2). */
export const payloadLocatorSchema = z
  .strictObject({
    tensor: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .describe(
        "V2: the name of the input (features) or output (prediction, confidence) tensor; for a feature, the tensor named like the feature or else the first one when absent; for outputs, the first one",
      ),
    column: z
      .number()
      .int()
      .min(0)
      .max(100_000)
      .optional()
      .describe("Index within a V1 array instance or prediction, or within a row of a 2-D V2 tensor"),
    key: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .describe(
        "V1: the key in an object instance or prediction; SeldonMessage: the column's name in data.names (a feature's own name when absent)",
      ),
  })
  .describe("Where a value sits: tensor (V2), column (array index) and/or key (object member)");

/** The mapping of one model's logged inference payloads to prediction rows. */
export const inferenceLoggerSchema = z
  .strictObject({
    inference_service: z
      .string()
      .regex(
        /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/,
        "expected a Kubernetes resource name like sklearn-iris",
      )
      .describe(
        "The `ce-inferenceservicename` of this model's events (the InferenceService or SeldonDeployment name)",
      ),
    namespace: z
      .string()
      .min(1)
      .max(253)
      .optional()
      .describe("When set, only events whose `ce-namespace` is this one are taken"),
    version: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$/, "expected a version like v3 or 2026.11.1")
      .optional()
      .describe(
        "model_version of the rows when the response does not name one (V1 never does); the model's champion when absent",
      ),
    features: z
      .record(z.string(), payloadLocatorSchema)
      .refine((r) => Object.keys(r).length > 0, "map at least one feature")
      .describe("Feature name (one of the model's features) → where its value sits in each instance"),
    prediction: payloadLocatorSchema
      .prefault({})
      .describe(
        "Where the prediction sits; the whole V1 prediction or the first V2 output tensor when empty",
      ),
    confidence: payloadLocatorSchema
      .extend({
        max: z
          .boolean()
          .default(false)
          .describe("Take the largest value of the row (class probabilities) instead of one column"),
      })
      .optional()
      .describe("Where the confidence (0 to 1) sits; rows carry no confidence when absent"),
  })
  .describe(
    "Map KServe / Seldon payload-logging CloudEvents (POST /api/v1/ingest/cloudevents) to this model",
  );

/** A validated mapping. */
export type InferenceLoggerConfig = z.output<typeof inferenceLoggerSchema>;
/** A validated locator. */
export type PayloadLocator = z.output<typeof payloadLocatorSchema>;
