/** A model's retraining config: pipeline and deploy adapters, the registry, the guard rails. */
import { z } from "zod";
import { cronSchema, durationSchema, httpUrl } from "./primitives.js";

/** How the bot calls out to a pipeline or a deployment: a signed webhook or a local command (no shell). */
export const webhookAdapter = z.strictObject({
  type: z.literal("webhook"),
  url: httpUrl.describe("Receives a JSON POST signed with HMAC-SHA256 (X-Mlops-Signature)"),
  secret: z.string().min(16, "use a secret of at least 16 characters").describe("HMAC key; write ${ENV_VAR}"),
  timeout: durationSchema.prefault("10s"),
});
export const commandAdapter = z.strictObject({
  type: z.literal("command"),
  command: z
    .array(z.string().min(1))
    .min(1)
    .describe("Program and arguments, spawned without a shell; details arrive in MLOPS_* variables"),
  timeout: durationSchema.prefault("2m"),
});
export const githubActionsAdapter = z.strictObject({
  type: z.literal("github_actions"),
  repository: z.string().regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, "expected owner/name"),
  workflow: z.string().min(1).describe("Workflow file name (retrain.yml) or id"),
  ref: z.string().min(1).default("main"),
  token: z.string().min(1).describe("A token allowed to dispatch the workflow; write ${ENV_VAR}"),
  api_url: httpUrl.default("https://api.github.com"),
  timeout: durationSchema.prefault("10s"),
});

/** A model registry the bot keeps the champion in: MLflow's Model Registry (REST API 2.0). */
export const mlflowRegistry = z.strictObject({
  type: z.literal("mlflow"),
  url: httpUrl.describe("Base URL of the MLflow tracking server (the REST API is under /api/2.0/mlflow)"),
  token: z
    .string()
    .min(1)
    .optional()
    .describe("Sent as `Authorization: Bearer <token>`; write ${ENV_VAR}. Never logged"),
  model_name: z.string().min(1).max(256).describe("The registered model's name in MLflow"),
  champion_alias: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,255}$/, "expected an alias like champion")
    .default("champion")
    .describe("The alias that names the champion version"),
  trained_by_tag: z
    .string()
    .min(1)
    .default("mlflow.user")
    .describe("The tag (on the model version, else on its run) that says who trained it"),
  timeout: durationSchema.prefault("10s").describe("Timeout of each request to MLflow"),
});

export const metricRule = z.strictObject({
  name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,62}$/, "expected a metric name like f1"),
  direction: z.enum(["higher", "lower"]).default("higher").describe("Which way is better"),
});

export const retrainingSchema = z
  .strictObject({
    pipeline: z
      .discriminatedUnion("type", [webhookAdapter, githubActionsAdapter, commandAdapter])
      .describe("What `/mlops retrain` calls"),
    deploy: z
      .discriminatedUnion("type", [webhookAdapter, commandAdapter])
      .optional()
      .describe(
        "What moves traffic for canary, promote and roll back; without it those only update the registry",
      ),
    registry: mlflowRegistry
      .optional()
      .describe(
        "The model registry that holds the champion (an alias); candidates are looked up in it, and promote and roll back move the alias",
      ),
    primary_metric: metricRule
      .extend({
        min_gain: z
          .number()
          .min(0)
          .default(0)
          .describe("The challenger must beat the champion by at least this"),
      })
      .prefault({ name: "f1" }),
    guardrails: z
      .array(
        metricRule.extend({
          margin: z
            .number()
            .min(0)
            .default(0)
            .describe("Non-inferiority margin: how much worse is still acceptable"),
        }),
      )
      .default([]),
    approvals_required: z.number().int().min(1).max(10).default(2),
    expires_after: durationSchema.prefault("24h").describe("An undecided candidate expires after this"),
    canary: z
      .strictObject({
        share: z.number().gt(0).lt(1).default(0.1).describe("Share of traffic sent to the challenger"),
        min_sample_per_arm: z.number().int().min(10).default(500),
        alpha: z.number().gt(0).lt(0.5).default(0.05),
        schedule: cronSchema.default("*/10 * * * *").describe("How often a running canary is compared"),
      })
      .prefault({}),
    callback_url: httpUrl
      .optional()
      .describe(
        "The bot's public base URL given to pipelines for their report; the listening address when absent",
      ),
  })
  .describe("Retraining with human approval, canary and promotion");
