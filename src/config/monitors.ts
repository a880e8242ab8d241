/** The monitor blocks of a model's config (`models[].monitors`). */

import { z } from "zod";
import { CLASSIFICATION_METRICS, REGRESSION_METRICS } from "../shared/performance-metrics.js";
import { cronSchema, durationSchema, fraction } from "./primitives.js";

/** `monitors.<m>.by_segment`: the same switch on every monitor but the probe. */
const bySegment = z
  .boolean()
  .default(false)
  .describe(
    "Also run this monitor on each segment of the model (models[].segments); findings name their segment",
  );

export const confidenceMonitor = z.strictObject({
  by_segment: bySegment,
  schedule: cronSchema.default("*/5 * * * *"),
  window: durationSchema.prefault("1h"),
  max_low_share: fraction.default(0.2).describe("Alert when more than this share is under the threshold"),
  realtime: z
    .strictObject({
      min_count: z.number().int().min(1).default(20),
      within: durationSchema.prefault("1m"),
    })
    .optional()
    .describe("Raise a finding on ingest when this many low-confidence predictions arrive within the span"),
});

export const driftMethod = z.enum([
  "auto",
  "ks",
  "chi2",
  "ztest",
  "psi",
  "jensen_shannon",
  "wasserstein",
  "hellinger",
]);

export const driftMonitor = z.strictObject({
  by_segment: bySegment,
  schedule: cronSchema.default("0 * * * *"),
  window: durationSchema.prefault("1d"),
  method: driftMethod.default("auto"),
  threshold: z
    .number()
    .positive()
    .optional()
    .describe("Method threshold; the method's usual default when absent"),
  dataset_drift_share: fraction.default(0.5),
  dataset_drift_weighting: z
    .enum(["count", "importance"])
    .default("count")
    .describe(
      "How the dataset-drift share counts features: each alike (count), or weighted by features[].importance (importance)",
    ),
  bonferroni: z.boolean().default(false),
  features: z
    .record(
      z.string(),
      z.strictObject({ method: driftMethod.optional(), threshold: z.number().positive().optional() }),
    )
    .default({})
    .describe("Per-feature overrides"),
});

export const dataQualityMonitor = z.strictObject({
  by_segment: bySegment,
  schedule: cronSchema.default("*/15 * * * *"),
  window: durationSchema.prefault("1h"),
  missing_share_factor: z.number().min(1).default(1.1),
  expected_rows_per_hour: z.number().positive().optional(),
  volume_tolerance: fraction.default(0.1),
});

export const multivariateMonitor = z.strictObject({
  schedule: cronSchema.default("0 * * * *"),
  window: durationSchema.prefault("1h"),
  variance: z
    .number()
    .gt(0)
    .lt(1)
    .default(0.65)
    .describe(
      "Share of the variance the reference PCA keeps; the rest is the reconstruction error each row is scored with at ingest",
    ),
  embedding_components: z
    .number()
    .int()
    .min(1)
    .max(10)
    .default(2)
    .describe(
      "Principal directions of each embedding feature's reference that every row is projected on at ingest (scores <feature>(pc1)…); its distance to the reference centroid is scored too",
    ),
  embedding_sample: z
    .number()
    .int()
    .min(100)
    .max(20_000)
    .default(2000)
    .describe(
      "Vectors kept per embedding feature for the baseline's fit and the domain classifier: the latest ones sampled at ingest (at most this many per monitor window, spread evenly over its minutes), and as many pinned per reference",
    ),
});

export const performanceMonitor = z.strictObject({
  by_segment: bySegment,
  schedule: cronSchema.default("0 * * * *"),
  window: durationSchema.prefault("1d"),
  metric: z
    .enum([...CLASSIFICATION_METRICS, ...REGRESSION_METRICS])
    .optional()
    .describe(
      "The realised metric judged against its learned band: accuracy, precision, recall, f1 (default; macro F1 for multiclass models) or roc_auc for classification models; mae, rmse (default), mape or r2 for regression models",
    ),
  min_labels: z.number().int().min(1).default(100),
});

export const probeMonitor = z.strictObject({
  schedule: cronSchema.default("*/5 * * * *"),
  timeout: durationSchema.prefault("5s"),
  max_latency_ms: z.number().positive().default(500),
  golden: z
    .array(
      z.strictObject({
        input: z.record(z.string(), z.union([z.number(), z.string(), z.null()])),
        expected: z.union([z.number(), z.string()]),
        tolerance: z.number().min(0).default(0),
      }),
    )
    .default([]),
});
