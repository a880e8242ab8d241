/**
 * Pre-aggregated profiles: a serving fleet sends one rollup per pod per minute instead of its rows
 * (`POST /api/v1/models/:model/profiles`). The body is a JSON array of 1 to 1,000 profiles, each
 * `{ id, model_version, bucket, rollup }`, where `rollup` has exactly the shape the bot stores
 * (src/rollups/model.ts, format 1) and `id` makes a resend count once. Everything is checked
 * before anything is stored: shapes, that every column is a configured feature of its type, and
 * that counts add up; the first problem is named by its path.
 */
import { z } from "zod";
import { CONFIDENCE_BINS, EXACT_VALUES_MAX, ROLLUP_FORMAT, type RollupData } from "./model.js";

/** Most profiles in one request. */
export const MAX_PROFILES = 1000;

const count = z.number().int().positive();
const whole = z.number().int().nonnegative();
const intKey = z.string().regex(/^-?\d+$/, "expected an integer bucket index");
const counts = (key: z.ZodType<string>) => z.record(key, count);
const finite = z.number().refine(Number.isFinite, "expected a finite number");

const numericAgg = z.strictObject({
  n: whole,
  min: finite.nullable(),
  max: finite.nullable(),
  sum: finite,
  sumsq: finite,
  values: z
    .record(z.string().regex(/^-?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i, "expected a number as the key"), count)
    .nullable(),
  sketch: z.strictObject({ zero: whole, pos: counts(intKey), neg: counts(intKey) }),
  aligned: z.strictObject({ exp: z.number().int().min(-1074).max(1023), bins: counts(intKey) }),
});
const categoricalAgg = z.strictObject({
  n: whole,
  values: z.record(z.string().max(1000), count),
  other: whole,
});
const confidenceBin = z
  .string()
  .regex(/^\d+$/, "expected a confidence bin 0…999")
  .refine((b) => Number(b) < CONFIDENCE_BINS, "expected a confidence bin 0…999");

/** The rollup document, format 1. */
export const rollupSchema = z.strictObject({
  format: z.literal(ROLLUP_FORMAT),
  rows: whole,
  first: z.iso.datetime({ offset: true }).nullable(),
  last: z.iso.datetime({ offset: true }).nullable(),
  numeric: z.record(z.string(), numericAgg),
  categorical: z.record(z.string(), categoricalAgg),
  unknown: z.record(
    z.string().max(100),
    z.record(z.enum(["number", "string", "boolean", "object", "array", "null"]), count),
  ),
  confidence: numericAgg.extend({ classes: z.record(z.string().max(200), z.record(confidenceBin, count)) }),
  prediction: categoricalAgg,
  predictionNumeric: numericAgg.nullable(),
  labels: z.record(
    z.string().max(200),
    z.record(z.string().max(200), z.record(z.union([confidenceBin, z.literal("-1")]), count)),
  ),
});

/** One profile of the request body. */
export const profileSchema = z.strictObject({
  id: z.string().min(1).max(200),
  model_version: z.string().min(1).max(100),
  bucket: z.iso
    .datetime({ offset: true })
    .refine(
      (s) => Date.parse(s) % 60_000 === 0,
      "expected the start of a minute (seconds and milliseconds zero)",
    ),
  rollup: rollupSchema,
});

/** The request body. */
export const profileBatchSchema = z.array(profileSchema).min(1).max(MAX_PROFILES);

/** A validated profile. */
export type Profile = { id: string; model_version: string; bucket: string; rollup: RollupData };

const sum = (m: Record<string, number>) => Object.values(m).reduce((s, x) => s + x, 0);

/** The configured features a profile may carry, by type. */
export interface ProfileFeatures {
  numeric: ReadonlySet<string>;
  categorical: ReadonlySet<string>;
}

/**
 * Checks what the schema cannot: column names are configured features of the right type, counts
 * add up (a column holds at most `rows` values, every binning holds exactly its column's n), and
 * first/last lie in the bucket. Returns the path and message of the first problem, or null.
 */
export function checkProfile(
  p: Profile,
  features: ProfileFeatures,
): { path: string; message: string } | null {
  const r = p.rollup;
  const start = Date.parse(p.bucket);
  for (const [path, t] of [
    ["rollup.first", r.first],
    ["rollup.last", r.last],
  ] as const) {
    if (t !== null && (Date.parse(t) < start || Date.parse(t) >= start + 60_000))
      return { path, message: "must lie within the profile's minute" };
  }
  const numericOk = (path: string, a: z.infer<typeof numericAgg>) => {
    if (a.n > r.rows) return { path: `${path}.n`, message: `more values (${a.n}) than rows (${r.rows})` };
    if (a.n > 0 && (a.min === null || a.max === null || a.min > a.max))
      return { path: `${path}.min`, message: "min and max are required and min ≤ max when n > 0" };
    const sketch = a.sketch.zero + sum(a.sketch.pos) + sum(a.sketch.neg);
    if (sketch !== a.n) return { path: `${path}.sketch`, message: `holds ${sketch} values, n is ${a.n}` };
    if (sum(a.aligned.bins) !== a.n)
      return { path: `${path}.aligned`, message: `holds ${sum(a.aligned.bins)} values, n is ${a.n}` };
    if (a.values && (Object.keys(a.values).length > EXACT_VALUES_MAX || sum(a.values) !== a.n))
      return {
        path: `${path}.values`,
        message: `must hold all ${a.n} values in at most ${EXACT_VALUES_MAX} keys, or be null`,
      };
    return null;
  };
  for (const [name, a] of Object.entries(r.numeric)) {
    if (!features.numeric.has(name))
      return { path: `rollup.numeric.${name}`, message: `not a numeric feature of this model` };
    const bad = numericOk(`rollup.numeric.${name}`, a);
    if (bad) return bad;
  }
  for (const [name, a] of Object.entries(r.categorical)) {
    if (!features.categorical.has(name))
      return { path: `rollup.categorical.${name}`, message: `not a categorical feature of this model` };
    if (a.n > r.rows || sum(a.values) + a.other !== a.n)
      return {
        path: `rollup.categorical.${name}`,
        message: "values and other must add up to n, and n ≤ rows",
      };
  }
  const conf = numericOk("rollup.confidence", r.confidence);
  if (conf) return conf;
  if (r.confidence.min !== null && (r.confidence.min < 0 || (r.confidence.max as number) > 1))
    return { path: "rollup.confidence.min", message: "confidence lies in [0, 1]" };
  const classes = Object.values(r.confidence.classes).reduce((s, m) => s + sum(m), 0);
  if (classes !== r.confidence.n)
    return { path: "rollup.confidence.classes", message: `holds ${classes} values, n is ${r.confidence.n}` };
  if (r.prediction.n !== r.rows || sum(r.prediction.values) + r.prediction.other !== r.rows)
    return {
      path: "rollup.prediction",
      message: "every row has a prediction: values and other add up to rows",
    };
  if (r.predictionNumeric) {
    const bad = numericOk("rollup.predictionNumeric", r.predictionNumeric);
    if (bad) return bad;
  }
  const labelled = Object.values(r.labels).reduce(
    (s, byLabel) => s + Object.values(byLabel).reduce((t, m) => t + sum(m), 0),
    0,
  );
  if (labelled > r.rows)
    return { path: "rollup.labels", message: `more labelled rows (${labelled}) than rows` };
  return null;
}
