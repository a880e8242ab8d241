import { z } from "zod";
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

const paramBase = {
  description: z.string().max(300).optional(),
  /** Take the default from the incident's model config (e.g. its `service_url`). */
  from_model: z.enum(MODEL_DEFAULTS).optional(),
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
  })
  .superRefine((m, ctx) => {
    for (const [key, p] of Object.entries(m.params)) {
      if (p.type === "enum" && p.default !== undefined && !p.values.includes(p.default))
        ctx.addIssue({ code: "custom", path: ["params", key, "default"], message: "not one of values" });
      if (p.type === "integer" && p.min !== undefined && p.max !== undefined && p.min > p.max)
        ctx.addIssue({ code: "custom", path: ["params", key, "min"], message: "greater than max" });
    }
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
 * Validates given values (strings from Slack) against the declared params, filling defaults from the
 * manifest and then the model. Unknown keys are problems, so a typo never silently runs the default.
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
    const raw = given[key];
    const fallback = spec.default ?? (spec.from_model ? modelDefaults[spec.from_model] : undefined);
    if (raw === undefined || raw === "") {
      if (fallback !== undefined) values[key] = fallback;
      else if (spec.required) problems[key] = "required";
      continue;
    }
    switch (spec.type) {
      case "string":
        if (raw.length > spec.max_length) problems[key] = `longer than ${spec.max_length} characters`;
        else if (/[\0\r\n]/.test(raw)) problems[key] = "contains a line break or NUL";
        else if (spec.pattern && !new RegExp(`^(?:${spec.pattern})$`).test(raw))
          problems[key] = `does not match ${spec.pattern}`;
        else values[key] = raw;
        break;
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

/** The card's suggestions: the runbooks whose `when` covers the incident (severity and subject count as labels). */
export function suggestFor(
  runbooks: readonly Pick<RunbookManifest, "name" | "when">[],
  incident: { model: string; monitor: string; severity: string; subject: string },
): string[] {
  const labels = { severity: incident.severity, subject: incident.subject };
  return runbooks
    .filter((r) => matches(r, { model: incident.model, monitor: incident.monitor, labels }))
    .map((r) => r.name);
}
