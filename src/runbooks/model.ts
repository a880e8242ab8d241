import { z } from "zod";
import { TOKEN_SCOPES } from "../api-tokens/model.js";
import type { runbookRuns } from "../db/schema/index.js";
import { parseDuration } from "../shared/duration.js";

/** Timeline event kinds the runbooks feature writes (read by escalation's L2 page). */
export const RUNBOOK_EVENTS = {
  started: "runbook_started",
  finished: "runbook_finished",
  refused: "refused",
} as const;

/** How a run ended (or that it still runs). */
export const RUN_STATUSES = ["running", "succeeded", "failed", "timed_out", "interrupted"] as const;
/** One of `RUN_STATUSES`. */
export type RunStatus = (typeof RUN_STATUSES)[number];

/** A stored run. */
export type RunbookRun = typeof runbookRuns.$inferSelect;

/** A parameter value after validation. */
export type ParamValue = string | number | boolean;

const nameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "expected a lowercase name like restart-service (a-z, 0-9, -)");
const paramKey = /^[a-z][a-z0-9_]{0,39}$/;
const envName = z.string().regex(/^[A-Z_][A-Z0-9_]{0,63}$/, "expected an environment variable name");
const groupKey = z
  .string()
  .regex(/^([a-z][a-z0-9_-]*|[UW][A-Z0-9]{2,})$/, "expected a user-group key, 'owners' or a Slack user id");

/** Model config keys a parameter may take its default from. */
export const MODEL_DEFAULTS = ["service_url", "champion", "slug"] as const;

/**
 * Variables no manifest may pass through to a script: the bot's own credentials. A runbook that
 * needs the bot's API gets a token of its own (`api_token`) instead of the bootstrap one.
 */
export const FORBIDDEN_ENV = [
  "SLACK_BOT_TOKEN",
  "SLACK_SIGNING_SECRET",
  "SLACK_APP_TOKEN",
  "DATABASE_URL",
  "MLOPS_API_TOKEN",
  "MLOPS_RUN_TOKEN",
] as const;

/** What a run's own API token may be scoped to: the API's token scopes. It is revoked when the run ends. */
export const RUN_TOKEN_SCOPES = TOKEN_SCOPES;

/** The origin (`scheme://host[:port]`) of an http(s) URL, or undefined when it is not one. */
export function httpOrigin(value: string): string | undefined {
  try {
    const u = new URL(value);
    if (u.protocol !== "http:" && u.protocol !== "https:") return undefined;
    if (u.username || u.password) return undefined;
    return u.origin;
  } catch {
    return undefined;
  }
}

const paramBase = {
  description: z.string().max(300).optional(),
  /** Take the value from the incident's model config (e.g. its `service_url`); fixed unless `overridable`. */
  from_model: z.enum(MODEL_DEFAULTS).optional(),
  /** With `from_model`: the person running it may give another value (still validated). */
  overridable: z.boolean().default(false),
  /** The value must be given (by default, the model, or the person). */
  required: z.boolean().default(true),
};

const paramSchema = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("string"),
    default: z.string().max(500).optional(),
    pattern: z
      .string()
      .refine((p) => {
        try {
          new RegExp(p);
          return true;
        } catch {
          return false;
        }
      }, "expected a valid regular expression")
      .optional(),
    max_length: z.number().int().min(1).max(2000).default(200),
    ...paramBase,
  }),
  z.strictObject({
    type: z.literal("integer"),
    default: z.number().int().optional(),
    min: z.number().int().optional(),
    max: z.number().int().optional(),
    ...paramBase,
  }),
  z.strictObject({ type: z.literal("boolean"), default: z.boolean().optional(), ...paramBase }),
  z.strictObject({
    type: z.literal("url"),
    default: z.string().max(500).optional(),
    /**
     * Origins (`https://host[:port]`) a value may point at besides the model's `service_url`
     * origin; nothing else is accepted (no metadata endpoints, no other services).
     */
    allowed_origins: z
      .array(
        z
          .string()
          .refine(
            (o) => httpOrigin(o) === o,
            "expected an origin like https://svc.internal:8443 (scheme, host, optional port; no path)",
          ),
      )
      .default([]),
    max_length: z.number().int().min(1).max(2000).default(500),
    ...paramBase,
  }),
  z.strictObject({
    type: z.literal("enum"),
    values: z.array(z.string().min(1).max(100)).min(1),
    default: z.string().optional(),
    ...paramBase,
  }),
]);

/** One declared parameter. */
export type ParamSpec = z.output<typeof paramSchema>;

const argvSchema = z
  .array(z.string().min(1).max(1000))
  .min(1)
  .max(64)
  .describe(
    "Program and arguments, no shell. `node` is the bot's own Node; relative paths are the runbook folder's; {param} is replaced by the value",
  );

const timeoutSchema = z
  .string()
  .regex(/^\d+(ms|s|m)$/, "expected a duration like 30s or 2m")
  .transform((s) => parseDuration(s))
  .refine((ms) => ms >= 100 && ms <= 3_600_000, "expected between 100ms and 60m");

/** The `runbook.yaml` manifest. */
export const manifestSchema = z
  .strictObject({
    name: nameSchema,
    title: z.string().min(1).max(75),
    description: z.string().min(1).max(2000),
    when: z
      .strictObject({
        models: z.array(z.string().min(1)).default([]),
        monitors: z.array(z.string().min(1)).default([]),
        labels: z.record(z.string(), z.string()).default({}),
      })
      .prefault({})
      .describe("Which incidents it is suggested for; an empty list matches any"),
    params: z
      .record(z.string().regex(paramKey, "expected a parameter name like service_url"), paramSchema)
      .default({}),
    run: argvSchema,
    verify: argvSchema.optional(),
    timeout: timeoutSchema.prefault("60s"),
    confirm: z.boolean().default(false),
    allowed_groups: z
      .array(groupKey)
      .default([])
      .describe("Narrows workspace.permissions.run_runbooks; empty means no further narrowing"),
    env: z.array(envName).default([]).describe("Variables passed through from the bot's environment"),
    api_token: z
      .strictObject({ scopes: z.array(z.enum(RUN_TOKEN_SCOPES)).min(1) })
      .optional()
      .describe("Give each run an API token of its own (MLOPS_RUN_TOKEN), revoked when the run ends"),
  })
  .superRefine((m, ctx) => {
    for (const [key, p] of Object.entries(m.params)) {
      if (p.type === "enum" && p.default !== undefined && !p.values.includes(p.default))
        ctx.addIssue({ code: "custom", path: ["params", key, "default"], message: "not one of values" });
      if (p.type === "integer" && p.min !== undefined && p.max !== undefined && p.min > p.max)
        ctx.addIssue({ code: "custom", path: ["params", key, "min"], message: "greater than max" });
      if (p.overridable && !p.from_model)
        ctx.addIssue({
          code: "custom",
          path: ["params", key, "overridable"],
          message: "only a parameter taken from the model (from_model) can be overridable",
        });
      if (p.from_model === "service_url" && p.type !== "url")
        ctx.addIssue({
          code: "custom",
          path: ["params", key, "type"],
          message: "a parameter taken from the model's service_url must be of type url",
        });
    }
    m.env.forEach((v, i) => {
      if ((FORBIDDEN_ENV as readonly string[]).includes(v))
        ctx.addIssue({
          code: "custom",
          path: ["env", i],
          message: `${v} is one of the bot's credentials and is never passed to a script${v === "MLOPS_API_TOKEN" ? " (declare api_token to give each run a token of its own)" : ""}`,
        });
    });
    for (const [field, argv] of [
      ["run", m.run],
      ["verify", m.verify ?? []],
    ] as const) {
      argv.forEach((arg, i) => {
        for (const ref of arg.matchAll(/\{([a-z][a-z0-9_]*)\}/g)) {
          if (!m.params[ref[1] as string])
            ctx.addIssue({
              code: "custom",
              path: [field, i],
              message: `unknown parameter {${ref[1]}} (declare it under params)`,
            });
        }
      });
    }
  });

/** A loaded runbook: its manifest and its folder. */
export type RunbookManifest = z.output<typeof manifestSchema>;
export interface Runbook extends RunbookManifest {
  dir: string;
  file: string;
}

/** What `when` is matched against. */
export interface IncidentFacts {
  model: string;
  monitor: string;
  labels?: Record<string, string>;
}

/** True when the runbook's `when` covers the incident (empty lists match anything). */
export function matches(runbook: Pick<RunbookManifest, "when">, facts: IncidentFacts): boolean {
  const w = runbook.when;
  if (w.models.length && !w.models.includes(facts.model)) return false;
  if (w.monitors.length && !w.monitors.includes(facts.monitor)) return false;
  for (const [k, v] of Object.entries(w.labels)) if (facts.labels?.[k] !== v) return false;
  return true;
}

/** `MLOPS_PARAM_SERVICE_URL` for `service_url`. */
export function paramEnvName(key: string): string {
  return `MLOPS_PARAM_${key.toUpperCase()}`;
}

/** Parameter values that failed validation, one message per parameter. */
export type ParamProblems = Record<string, string>;

/**
 * Checks a URL parameter: http(s), in its plain form (what it is parsed as is what it says, so a
 * script's URL parser cannot read another host into it), pointing at the model's `service_url`
 * origin or one of the manifest's `allowed_origins`.
 */
function urlProblem(
  spec: Extract<ParamSpec, { type: "url" }>,
  raw: string,
  serviceUrl: string | undefined,
): string | undefined {
  if (raw.length > spec.max_length) return `longer than ${spec.max_length} characters`;
  const origin = httpOrigin(raw);
  if (!origin) return "expected an http(s) URL (no user or password in it)";
  const href = new URL(raw).href;
  if (href !== raw && href !== `${raw}/`) return `write the URL in its plain form (${href})`;
  const modelOrigin = serviceUrl ? httpOrigin(serviceUrl) : undefined;
  const allowed = [...(modelOrigin ? [modelOrigin] : []), ...spec.allowed_origins];
  if (allowed.includes(origin)) return undefined;
  return allowed.length
    ? `${origin} is not allowed: it must point at ${allowed.join(" or ")}`
    : `${origin} is not allowed: the model has no service_url and the runbook lists no allowed_origins`;
}

/**
 * Validates given values (strings from Slack) against the declared params, filling defaults from the
 * manifest and then the model. Unknown keys are problems, so a typo never silently runs the default.
 * A parameter taken from the model (`from_model`) is fixed to the model's value unless the
 * manifest marks it `overridable`: whoever may run a runbook may not point it somewhere else.
 */
export function resolveParams(
  specs: Record<string, ParamSpec>,
  given: Record<string, string>,
  modelDefaults: Partial<Record<(typeof MODEL_DEFAULTS)[number], string>>,
): { ok: true; values: Record<string, ParamValue> } | { ok: false; problems: ParamProblems } {
  const problems: ParamProblems = {};
  const values: Record<string, ParamValue> = {};
  for (const key of Object.keys(given)) if (!specs[key]) problems[key] = "not a parameter of this runbook";
  for (const [key, spec] of Object.entries(specs)) {
    let raw = given[key];
    const fromModel = spec.from_model ? modelDefaults[spec.from_model] : undefined;
    const fallback = spec.default ?? fromModel;
    const fixed = spec.from_model !== undefined && !spec.overridable;
    if (fixed && raw !== undefined && raw !== "" && raw !== String(fallback ?? "")) {
      problems[key] =
        fallback === undefined
          ? `taken from the model's ${spec.from_model}, which is not configured; it cannot be given`
          : `fixed to the model's ${spec.from_model} (${String(fallback)}); this runbook does not let it be changed`;
      continue;
    }
    if (raw === undefined || raw === "") {
      if (fallback === undefined) {
        if (spec.required) problems[key] = "required";
        continue;
      }
      // URLs are checked wherever they come from; other defaults are the manifest's or the model's own.
      if (spec.type !== "url") {
        values[key] = fallback;
        continue;
      }
      raw = String(fallback);
    }
    switch (spec.type) {
      case "string":
        if (raw.length > spec.max_length) problems[key] = `longer than ${spec.max_length} characters`;
        else if (/[\0\r\n]/.test(raw)) problems[key] = "contains a line break or NUL";
        else if (spec.pattern && !new RegExp(`^(?:${spec.pattern})$`).test(raw))
          problems[key] = `does not match ${spec.pattern}`;
        else values[key] = raw;
        break;
      case "url": {
        const problem = urlProblem(spec, raw, modelDefaults.service_url);
        if (problem) problems[key] = problem;
        else values[key] = raw;
        break;
      }
      case "integer": {
        const n = /^-?\d{1,15}$/.test(raw) ? Number(raw) : Number.NaN;
        if (!Number.isSafeInteger(n)) problems[key] = "expected a whole number";
        else if (spec.min !== undefined && n < spec.min) problems[key] = `less than ${spec.min}`;
        else if (spec.max !== undefined && n > spec.max) problems[key] = `more than ${spec.max}`;
        else values[key] = n;
        break;
      }
      case "boolean":
        if (raw === "true" || raw === "false") values[key] = raw === "true";
        else problems[key] = "expected true or false";
        break;
      case "enum":
        if (spec.values.includes(raw)) values[key] = raw;
        else problems[key] = `expected one of ${spec.values.join(", ")}`;
        break;
    }
  }
  return Object.keys(problems).length ? { ok: false, problems } : { ok: true, values };
}

/**
 * The argv with each `{param}` replaced by its value, as a literal part of one argument: there is
 * no shell, so a value can never become a second argument or a command.
 */
export function expandArgv(argv: readonly string[], values: Record<string, ParamValue>): string[] {
  return argv.map((arg) =>
    arg.replace(/\{([a-z][a-z0-9_]*)\}/g, (_, key: string) => String(values[key] ?? "")),
  );
}

/** `key=value` words into a record; the words that are not of that form are returned apart. */
export function parseAssignments(words: readonly string[]): {
  given: Record<string, string>;
  rest: string[];
} {
  const given: Record<string, string> = {};
  const rest: string[] = [];
  for (const w of words) {
    const m = /^([a-z][a-z0-9_]*)=(.*)$/s.exec(w);
    if (m) given[m[1] as string] = m[2] as string;
    else rest.push(w);
  }
  return { given, rest };
}

/** The verdict of a run's exit. */
export function statusOf(exit: { exitCode: number | null; timedOut: boolean; aborted: boolean }): RunStatus {
  if (exit.aborted) return "interrupted";
  if (exit.timedOut) return "timed_out";
  return exit.exitCode === 0 ? "succeeded" : "failed";
}

/**
 * The card's suggestions: the runbooks whose `when` covers the incident (severity and subject
 * count as labels). A grouped incident passes its firing members' `subjects`: a runbook matching
 * any one of them (e.g. `subject: amount` while amount drifts) is suggested.
 */
export function suggestFor(
  runbooks: readonly Pick<RunbookManifest, "name" | "when">[],
  incident: { model: string; monitor: string; severity: string; subject: string },
  subjects: readonly string[] = [incident.subject],
): string[] {
  const facts = (subject: string) => ({
    model: incident.model,
    monitor: incident.monitor,
    labels: { severity: incident.severity, subject },
  });
  return runbooks.filter((r) => subjects.some((subject) => matches(r, facts(subject)))).map((r) => r.name);
}
