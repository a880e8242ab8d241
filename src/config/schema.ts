import { z } from "zod";
import { defaultMetric, metricsOfTask, type PerformanceMetric } from "../shared/performance-metrics.js";
import { parseSegmentSpec } from "../shared/segment-spec.js";
import { SEVERITIES, SEVERITY_RULE_NAMES, SEVERITY_RULES, type SeverityRule } from "../shared/severity.js";
import { escalationSchema } from "./escalation.js";
import { inferenceLoggerSchema } from "./inference-logger.js";
import {
  confidenceMonitor,
  dataQualityMonitor,
  driftMonitor,
  multivariateMonitor,
  performanceMonitor,
  probeMonitor,
} from "./monitors.js";
import { oncallSchema, pagersSchema } from "./pagers.js";
import { channelSchema, durationSchema, fraction, principalSchema, slugSchema } from "./primitives.js";
import { retrainingSchema } from "./retraining.js";
import { ingestSchema, livenessSchema, outboxSchema, reportsSchema, storageSchema } from "./runtime.js";
import { schedulesSchema } from "./schedules.js";
import { timeZoneSchema } from "./time-zone.js";

export { channelSchema, cronSchema, durationSchema, principalSchema } from "./primitives.js";

export { timeZoneSchema } from "./time-zone.js";

/** The longest embedding vector a feature may declare. */
export const MAX_EMBEDDING_DIMENSIONS = 4096;

const userGroupSchema = z
  .strictObject({
    handle: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, "expected a user-group handle without @"),
    id: z
      .string()
      .regex(/^S[A-Z0-9]{2,}$/, "expected a Slack user-group id like S0123")
      .optional()
      .describe("The group's Slack id; looked up by handle when absent"),
    description: z.string().optional(),
  })
  .describe("A Slack user group");

const permissionsSchema = z
  .strictObject({
    acknowledge: z.array(principalSchema).default(["l1", "l2", "owners"]),
    resolve: z.array(principalSchema).default(["l1", "l2", "owners"]),
    silence: z.array(principalSchema).default(["l1", "l2", "owners"]),
    escalate: z.array(principalSchema).default(["l1", "l2", "owners"]),
    run_runbooks: z.array(principalSchema).default(["l1", "l2", "owners"]),
    retrain: z.array(principalSchema).default(["l2", "owners"]),
    approve: z.array(principalSchema).default(["l2", "owners"]),
    baseline: z.array(principalSchema).default(["l2", "owners"]),
    manage_outbox: z
      .array(principalSchema)
      .default(["l2", "owners"])
      .describe(
        "List, retry and drop undeliverable Slack writes (/mlops outbox); 'owners' means the owners of any model",
      ),
    manage_oncall: z
      .array(principalSchema)
      .default(["l2", "owners"])
      .describe(
        "Set and undo on-call overrides on any schedule (a schedule's own people may always do it on theirs); 'owners' means the owners of any model",
      ),
  })
  .describe("Who may do what: lists of user-group keys, 'owners' or Slack user ids");

const workspaceSchema = z.strictObject({
  name: z.string().default("mlops"),
  timezone: timeZoneSchema
    .default("UTC")
    .describe(
      "The team's time zone (IANA): scheduled reports are read in it. Slack's API has no workspace time zone, so it is set here",
    ),
  alert_channel: channelSchema.describe("Default channel for alerts of models without their own"),
  user_groups: z
    .record(z.string().regex(/^[a-z][a-z0-9_-]*$/, "expected a lowercase key"), userGroupSchema)
    .describe("Named Slack user groups; l1 (operators) and l2 (data scientists on duty) are required"),
  permissions: permissionsSchema.prefault({}),
});

const featureSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,62}$/, "expected a feature name (letters, digits, _ . -)"),
  type: z
    .enum(["numeric", "categorical", "embedding"])
    .describe(
      "numeric or categorical: a value per row; embedding: a fixed-length vector (a JSON array of numbers, or base64 of its little-endian float32 bytes), monitored by monitors.multivariate through its distance to the reference centroid and its projections on the reference's principal directions",
    ),
  dimensions: z
    .number()
    .int()
    .min(2)
    .max(MAX_EMBEDDING_DIMENSIONS)
    .optional()
    .describe("The length of an embedding feature's vectors (required for type: embedding, only for it)"),
  importance: z
    .number()
    .min(0)
    .optional()
    .describe(
      "Weight of the feature (e.g. mean |SHAP|): drift findings rank by importance × drift score, and dataset_drift_weighting: importance weighs the drifted share; unset: the mean of the importances given (1 when none is)",
    ),
});

/** A severity level of a finding or incident. */
const severityLevelSchema = z.enum(SEVERITIES, {
  error: (issue) => `unknown severity '${String(issue.input)}' (expected one of: ${SEVERITIES.join(", ")})`,
});

/** Monitor rule → severity, every key optional (a model's overrides); unknown rules are refused. */
const severityOverridesSchema = z
  .strictObject(
    Object.fromEntries(
      SEVERITY_RULE_NAMES.map((r) => [r, severityLevelSchema.optional().describe(SEVERITY_RULES[r].what)]),
    ) as Record<SeverityRule, z.ZodOptional<typeof severityLevelSchema>>,
  )
  .describe(
    "Severity per monitor rule for this model, over alerting.severity (critical, warning or info; info never opens an incident)",
  );

const modelSchema = z
  .strictObject({
    slug: slugSchema,
    name: z.string().min(1),
    description: z.string().optional(),
    task: z.enum(["binary_classification", "multiclass_classification", "regression"]),
    owners: z.string().describe("Key of the user group that built the model (paged at L3)"),
    alert_channel: channelSchema
      .optional()
      .describe("Where this model's alerts go; the workspace default when absent"),
    stakeholder_channel: channelSchema
      .optional()
      .describe(
        "Where status updates of this model's incidents are posted too (besides the incident thread), for people who follow without responding",
      ),
    severity: severityOverridesSchema.optional(),
    service_url: z.url().optional().describe("Base URL of the model's microservice"),
    confidence_threshold: fraction.default(0.75),
    champion: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/, "expected a version like v3 or 2026.11.1")
      .optional()
      .describe(
        "The model version serving traffic (the champion); other versions seen in predictions are challengers",
      ),
    features: z.array(featureSchema).min(1),
    segments: z
      .array(z.string().min(1))
      .default([])
      .describe(
        "Categorical features whose values are monitored as segments (country, channel, tier), or a feature with the values to monitor (`tier = gold, silver`; the rest are `tier=(other)`): rollups are kept per value, and monitors with by_segment run per segment",
      ),
    segment_cap: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(50)
      .describe("Values kept per segment feature; later values count as the segment <feature>=(other)"),
    retraining: retrainingSchema.optional(),
    inference_logger: inferenceLoggerSchema.optional(),
    expect_traffic_within: durationSchema
      .optional()
      .describe(
        "Open an incident (dead-man's switch) when no prediction was ingested for this long; unset: no traffic check",
      ),
    monitors: z
      .strictObject({
        confidence: confidenceMonitor.optional(),
        drift: driftMonitor.optional(),
        data_quality: dataQualityMonitor.optional(),
        multivariate: multivariateMonitor
          .optional()
          .describe(
            "Multivariate drift: the PCA reconstruction error of each row (scored at ingest against the reference) judged on the window mean",
          ),
        performance: performanceMonitor.optional(),
        probe: probeMonitor.optional(),
      })
      .prefault({}),
  })
  // The performance metric's default depends on the task, so it is filled in once the task is known.
  // (In place: the monitors' order is the order `/mlops check` runs and lists them in.)
  .transform((m) => {
    const perf = m.monitors.performance;
    if (perf) perf.metric ??= defaultMetric(m.task);
    return m as typeof m & {
      monitors: { performance?: NonNullable<typeof perf> & { metric: PerformanceMetric } };
    };
  });

const sandboxSchema = z
  .strictObject({
    users: z
      .array(
        z.strictObject({
          id: z.string().regex(/^U[A-Z0-9]{2,}$/, "expected a user id like U0123"),
          name: z.string(),
          real_name: z.string(),
          groups: z.array(z.string()).default([]),
          tz: timeZoneSchema
            .optional()
            .describe("The person's time zone, as Slack's users.info reports it (Etc/UTC when absent)"),
        }),
      )
      .default([]),
    channels: z.array(channelSchema).default([]),
  })
  .describe("People and channels seeded into the built-in Slack sandbox (no effect with real Slack)");

/** The labels `alerting.group_by` may list: a finding's model, monitor and subject (e.g. a feature). */
export const GROUP_LABELS = ["model", "monitor", "subject"] as const;

/** One of `GROUP_LABELS`. */
export type GroupLabel = (typeof GROUP_LABELS)[number];

const alertingSchema = z
  .strictObject({
    group_wait: durationSchema
      .prefault("0s")
      .describe("How long a new incident waits before its card is posted; firings meanwhile fold into it"),
    group_interval: durationSchema
      .prefault("1m")
      .describe(
        "Repeat firings go into the incident thread at most once per interval; those in between are counted and summarised in the next reply",
      ),
    repeat_interval: durationSchema
      .prefault("4h")
      .describe(
        "While an unresolved incident's alert keeps firing, a reminder is posted in its thread this often",
      ),
    resolve_with_alert: z
      .boolean()
      .default(true)
      .describe(
        "Resolve the incident when its alert reports resolved (false: post a notice and leave it open)",
      ),
    max_silence: durationSchema.prefault("30d").describe("The longest silence a person may set"),
    group_by: z
      .array(
        z.enum(GROUP_LABELS, {
          error: (issue) =>
            `unknown label '${String(issue.input)}' (expected one of: ${GROUP_LABELS.join(", ")})`,
        }),
      )
      .min(1)
      .default(["model", "monitor"])
      .refine((labels) => labels.includes("model"), {
        message: "must include 'model' (an incident lives in its model's channel)",
      })
      .refine((labels) => new Set(labels).size === labels.length, { message: "lists a label twice" })
      .describe(
        "Labels whose values form an incident's group key (Alertmanager's group_by): findings with the same values share one incident. [model, monitor] makes one drift run one incident; [model, monitor, subject] opens one per finding. Alerts from Alertmanager are never regrouped (it groups them itself)",
      ),
    resolve_after: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(2)
      .describe(
        "Clean monitor runs every member of an incident must have behind it before the incident resolves on its own; a member firing again before then flips back on the same card",
      ),
    severity: z
      .strictObject(
        Object.fromEntries(
          SEVERITY_RULE_NAMES.map((r) => [
            r,
            severityLevelSchema.default(SEVERITY_RULES[r].level).describe(SEVERITY_RULES[r].what),
          ]),
        ) as Record<SeverityRule, z.ZodDefault<typeof severityLevelSchema>>,
      )
      .prefault({})
      .describe(
        "Severity of each monitor rule's findings: critical, warning or info. Info findings are posted to the model's channel as a feed line and never open an incident (they join an incident of their group that is already open); severity picks the escalation policy (escalation.severity) and the update rhythm (update_every). A model's `severity` overrides single rules",
      ),
    update_every: z
      .strictObject({
        critical: durationSchema.prefault("30m"),
        warning: durationSchema.prefault("4h"),
        info: durationSchema.optional().describe("Rhythm for info incidents; no reminders when absent"),
      })
      .prefault({})
      .describe(
        "Status-update rhythm by severity: while an incident with an owner is unresolved and no update was posted for this long, the owner is reminded in its thread",
      ),
    alertmanager: z
      .strictObject({
        model_label: z
          .string()
          .min(1)
          .default("model")
          .describe("The Alertmanager label that names the model (its slug)"),
      })
      .prefault({}),
  })
  .describe("Notification policy for alerts and incidents, in the manner of Alertmanager");

/** The whole YAML config file. */
export const configSchema = z
  .strictObject({
    workspace: workspaceSchema,
    models: z.array(modelSchema).min(1),
    alerting: alertingSchema.prefault({}),
    sandbox: sandboxSchema.prefault({}),
    escalation: escalationSchema.prefault({}),
    schedules: schedulesSchema,
    pagers: pagersSchema,
    oncall: oncallSchema.prefault({}),
    storage: storageSchema.prefault({}),
    outbox: outboxSchema.prefault({}),
    reports: reportsSchema.prefault({}),
    ingest: ingestSchema.prefault({}),

    liveness: livenessSchema.prefault({}),
  })
  .superRefine((cfg, ctx) => {
    const groups = cfg.workspace.user_groups;
    if (groups.none)
      ctx.addIssue({
        code: "custom",
        path: ["workspace", "user_groups", "none"],
        message: "'none' is reserved: a tier with group: none pages only whoever is on call in its schedule",
      });
    for (const required of ["l1", "l2"]) {
      if (!groups[required]) {
        ctx.addIssue({
          code: "custom",
          path: ["workspace", "user_groups", required],
          message: `required key missing (the ${required === "l1" ? "L1 operators" : "L2 data scientists"}' user group)`,
        });
      }
    }
    for (const [action, principals] of Object.entries(cfg.workspace.permissions)) {
      principals.forEach((p, i) => {
        if (p !== "owners" && !/^[UW]/.test(p) && !groups[p]) {
          ctx.addIssue({
            code: "custom",
            path: ["workspace", "permissions", action, i],
            message: `unknown user group '${p}' (expected one of: ${[...Object.keys(groups), "owners"].join(", ")} or a user id)`,
          });
        }
      });
    }
    const slugs = new Set<string>();
    cfg.models.forEach((m, i) => {
      if (slugs.has(m.slug))
        ctx.addIssue({
          code: "custom",
          path: ["models", i, "slug"],
          message: `duplicate model slug '${m.slug}'`,
        });
      slugs.add(m.slug);
      if (!groups[m.owners]) {
        ctx.addIssue({
          code: "custom",
          path: ["models", i, "owners"],
          message: `unknown user group '${m.owners}' (expected one of: ${Object.keys(groups).join(", ")})`,
        });
      }
      const names = new Set<string>();
      m.features.forEach((f, j) => {
        if (names.has(f.name))
          ctx.addIssue({
            code: "custom",
            path: ["models", i, "features", j, "name"],
            message: `duplicate feature '${f.name}'`,
          });
        names.add(f.name);
      });
      m.features.forEach((f, j) => {
        if (f.type === "embedding" && f.dimensions === undefined)
          ctx.addIssue({
            code: "custom",
            path: ["models", i, "features", j, "dimensions"],
            message: `embedding feature '${f.name}' needs dimensions: the length of its vectors (e.g. 384)`,
          });
        if (f.type !== "embedding" && f.dimensions !== undefined)
          ctx.addIssue({
            code: "custom",
            path: ["models", i, "features", j, "dimensions"],
            message: `dimensions applies to embedding features only ('${f.name}' is ${f.type})`,
          });
        if (f.type === "embedding" && !m.monitors.multivariate)
          ctx.addIssue({
            code: "custom",
            path: ["models", i, "features", j, "type"],
            message: `embedding feature '${f.name}' is monitored by monitors.multivariate; add it (monitors: { multivariate: {} })`,
          });
      });
      const segmented = new Set<string>();
      m.segments.forEach((spec, j) => {
        const path = ["models", i, "segments", j];
        const p = parseSegmentSpec(spec);
        if (!p) {
          ctx.addIssue({
            code: "custom",
            path,
            message: `'${spec}' is not a segment: expected a categorical feature (country) or a feature with its values (country = DE, FR)`,
          });
          return;
        }
        const name = p.feature;
        const f = m.features.find((x) => x.name === name);
        if (f?.type !== "categorical")
          ctx.addIssue({
            code: "custom",
            path,
            message: f
              ? `segment feature '${name}' is ${f.type}; segments need a categorical feature`
              : `unknown feature '${name}' (not in models[${i}].features)`,
          });
        if (segmented.has(name))
          ctx.addIssue({ code: "custom", path, message: `feature '${name}' is segmented twice` });
        segmented.add(name);
        const dup = p.values?.find((v, k) => p.values?.indexOf(v) !== k);
        if (dup !== undefined)
          ctx.addIssue({ code: "custom", path, message: `value '${dup}' is listed twice` });
        if (p.values?.includes("(other)"))
          ctx.addIssue({
            code: "custom",
            path,
            message: "'(other)' is where unlisted values go; it cannot be listed",
          });
        if (p.values && p.values.length > m.segment_cap)
          ctx.addIssue({
            code: "custom",
            path,
            message: `${p.values.length} values listed, more than segment_cap (${m.segment_cap})`,
          });
      });
      const metric = m.monitors.performance?.metric;
      if (metric && !metricsOfTask(m.task).includes(metric))
        ctx.addIssue({
          code: "custom",
          path: ["models", i, "monitors", "performance", "metric"],
          message: `'${metric}' does not apply to a ${m.task} model (expected one of: ${metricsOfTask(m.task).join(", ")})`,
        });
      for (const feature of Object.keys(m.monitors.drift?.features ?? {})) {
        // A regression model's residual is drift-checked like a feature, under this name.
        if (m.task === "regression" && feature === "(residual)") continue;
        if (!names.has(feature))
          ctx.addIssue({
            code: "custom",
            path: ["models", i, "monitors", "drift", "features", feature],
            message: `unknown feature '${feature}' (not in models[${i}].features)`,
          });
        else if (m.features.some((f) => f.name === feature && f.type === "embedding"))
          ctx.addIssue({
            code: "custom",
            path: ["models", i, "monitors", "drift", "features", feature],
            message: `'${feature}' is an embedding: monitors.multivariate judges it, not the univariate drift monitor`,
          });
      }
    });
    const services = new Map<string, number>();
    cfg.models.forEach((m, i) => {
      const logger = m.inference_logger;
      if (!logger) return;
      const names = new Set(m.features.map((f) => f.name));
      for (const feature of Object.keys(logger.features)) {
        if (!names.has(feature))
          ctx.addIssue({
            code: "custom",
            path: ["models", i, "inference_logger", "features", feature],
            message: `unknown feature '${feature}' (not in models[${i}].features)`,
          });
        else if (m.features.some((f) => f.name === feature && f.type === "embedding"))
          ctx.addIssue({
            code: "custom",
            path: ["models", i, "inference_logger", "features", feature],
            message: `'${feature}' is an embedding; the inference logger maps scalar features only`,
          });
      }
      const other = services.get(logger.inference_service);
      if (other !== undefined)
        ctx.addIssue({
          code: "custom",
          path: ["models", i, "inference_logger", "inference_service"],
          message: `'${logger.inference_service}' is already mapped by models[${other}] (an InferenceService maps to one model)`,
        });
      services.set(logger.inference_service, i);
      if (!logger.version && !m.champion)
        ctx.addIssue({
          code: "custom",
          path: ["models", i, "inference_logger", "version"],
          message:
            "required key missing (the model has no champion to name the version of logged predictions)",
        });
      for (const [path, locator] of [
        ["prediction", logger.prediction],
        ["confidence", logger.confidence],
      ] as const) {
        if (locator && "max" in locator && locator.max && locator.column !== undefined)
          ctx.addIssue({
            code: "custom",
            path: ["models", i, "inference_logger", path, "max"],
            message: "give either column or max: true, not both",
          });
      }
    });
    type TierGroups = Partial<
      Record<
        "l1" | "l2" | "l3",
        | {
            group?: string | undefined;
            schedule?: string | undefined;
            notify?: { pager: string }[] | undefined;
          }
        | undefined
      >
    >;
    const escalationPolicies: [string[], TierGroups][] = [
      [["escalation", "default"], cfg.escalation.default],
      ...Object.entries(cfg.escalation.models).map(([slug, p]): [string[], TierGroups] => [
        ["escalation", "models", slug],
        p,
      ]),
      ...Object.entries(cfg.escalation.severity).flatMap(([level, p]): [string[], TierGroups][] =>
        p ? [[["escalation", "severity", level], p]] : [],
      ),
    ];
    for (const [path, policy] of escalationPolicies) {
      for (const tier of ["l1", "l2", "l3"] as const) {
        const group = policy[tier]?.group;
        if (group && group !== "owners" && group !== "none" && !groups[group])
          ctx.addIssue({
            code: "custom",
            path: [...path, tier, "group"],
            message: `unknown user group '${group}' (expected one of: ${[...Object.keys(groups), "owners", "none"].join(", ")})`,
          });
        // A schedule-only tier needs its schedule, here or in the default policy it overrides.
        if (group === "none" && !policy[tier]?.schedule && !cfg.escalation.default[tier].schedule)
          ctx.addIssue({
            code: "custom",
            path: [...path, tier, "group"],
            message: `'none' pages only whoever is on call in the tier's schedule, and ${path.join(".")}.${tier} has no schedule (set ${tier}.schedule)`,
          });
        const schedule = policy[tier]?.schedule;
        if (schedule && !cfg.schedules[schedule])
          ctx.addIssue({
            code: "custom",
            path: [...path, tier, "schedule"],
            message: `unknown schedule '${schedule}' (${Object.keys(cfg.schedules).length ? `expected one of: ${Object.keys(cfg.schedules).join(", ")}` : "no schedules are configured"})`,
          });
        policy[tier]?.notify?.forEach((rule, i) => {
          if (!cfg.pagers[rule.pager])
            ctx.addIssue({
              code: "custom",
              path: [...path, tier, "notify", i, "pager"],
              message: `unknown pager '${rule.pager}' (${Object.keys(cfg.pagers).length ? `expected one of: ${Object.keys(cfg.pagers).join(", ")}` : "no pagers are configured"})`,
            });
        });
      }
    }
    for (const [user, person] of Object.entries(cfg.oncall.people))
      person.notify.forEach((rule, i) => {
        if (!cfg.pagers[rule.pager])
          ctx.addIssue({
            code: "custom",
            path: ["oncall", "people", user, "notify", i, "pager"],
            message: `unknown pager '${rule.pager}' (${Object.keys(cfg.pagers).length ? `expected one of: ${Object.keys(cfg.pagers).join(", ")}` : "no pagers are configured"})`,
          });
      });
    for (const slug of Object.keys(cfg.escalation.models)) {
      if (!slugs.has(slug))
        ctx.addIssue({
          code: "custom",
          path: ["escalation", "models", slug],
          message: `unknown model '${slug}' (not in models)`,
        });
    }
    cfg.sandbox.users.forEach((u, i) => {
      u.groups.forEach((g, j) => {
        if (!groups[g])
          ctx.addIssue({
            code: "custom",
            path: ["sandbox", "users", i, "groups", j],
            message: `unknown user group '${g}'`,
          });
      });
    });
  });

/** The validated config, with defaults filled in and durations in milliseconds. */
export type MlopsConfig = z.output<typeof configSchema>;
/** One model's config. */
export type ModelConfig = MlopsConfig["models"][number];
/** One model's retraining settings. */
export type RetrainingConfig = NonNullable<ModelConfig["retraining"]>;
/** One model's registry (MLflow). */
export type RegistryConfig = NonNullable<RetrainingConfig["registry"]>;
/** An action guarded by `workspace.permissions`. */
export type PermissionAction = keyof MlopsConfig["workspace"]["permissions"];
