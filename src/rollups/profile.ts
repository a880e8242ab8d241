/**
 * Pre-aggregated profiles: a serving fleet sends one rollup per pod per minute instead of its rows
 * (`POST /api/v1/models/:model/profiles`). The body is a JSON array of 1 to 1,000 profiles, each
 * `{ id, model_version, bucket, rollup }`, where `rollup` has exactly the shape the bot stores
 * (src/rollups/model.ts, format 2; format 1, which keyed the binnings' counts by index, is still
 * accepted and converted) and `id` makes a resend count once. Everything is checked before
 * anything is stored: shapes, that every column is a configured feature of its type, and that
 * counts add up; the first problem is named by its path.
 */
import { z } from "zod";
import { countsTotal } from "./counts.js";
import {
  CLASS_BINS,
  type ClassCell,
  CONFIDENCE_BINS,
  EXACT_VALUES_MAX,
  MAX_CLASSES,
  type NumericAgg,
  type RollupData,
} from "./model.js";
import { MAX_BINS, SKETCH_INDEX_MAX, SKETCH_INDEX_MIN } from "./sketch.js";

/** Most profiles in one request. */
export const MAX_PROFILES = 1000;

const count = z.number().int().positive();
const whole = z.number().int().nonnegative();
const intKey = z.string().regex(/^-?\d+$/, "expected an integer bucket index");
const counts = (key: z.ZodType<string>) => z.record(key, count);
const finite = z.number().refine(Number.isFinite, "expected a finite number");
const exp = z.number().int().min(-1074).max(1023);
const SKETCH_SPAN = SKETCH_INDEX_MAX - SKETCH_INDEX_MIN + 1;
const sketchRange = `a sketch bucket index from ${SKETCH_INDEX_MIN} to ${SKETCH_INDEX_MAX}`;
const sketchKey = intKey.refine(
  (k) => Number(k) >= SKETCH_INDEX_MIN && Number(k) <= SKETCH_INDEX_MAX,
  `expected ${sketchRange}`,
);
const keysSpan = (m: Record<string, number>) => {
  const keys = Object.keys(m).map(Number);
  return keys.length === 0 ? 0 : Math.max(...keys) - Math.min(...keys) + 1;
};

const numericFields = {
  n: whole,
  min: finite.nullable(),
  max: finite.nullable(),
  sum: finite,
  sumsq: finite,
  values: z
    .record(z.string().regex(/^-?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i, "expected a number as the key"), count)
    .nullable(),
};
/** Format 1: counts keyed by bucket index. */
const numericAggV1 = z.strictObject({
  ...numericFields,
  sketch: z.strictObject({ zero: whole, pos: counts(sketchKey), neg: counts(sketchKey) }),
  aligned: z.strictObject({
    exp,
    bins: counts(intKey).refine((m) => keysSpan(m) <= MAX_BINS, `expected at most ${MAX_BINS} bins`),
  }),
});
/** Format 2: counts of consecutive indices from `offset`. */
const sketchSide = z
  .strictObject({ offset: z.number().int(), counts: z.array(whole).max(SKETCH_SPAN) })
  .refine(
    (s) =>
      s.counts.length === 0 ||
      (s.offset >= SKETCH_INDEX_MIN && s.offset + s.counts.length - 1 <= SKETCH_INDEX_MAX),
    `expected counts of ${sketchRange}`,
  );
const numericAggV2 = z.strictObject({
  ...numericFields,
  sketch: z.strictObject({ zero: whole, pos: sketchSide, neg: sketchSide }),
  aligned: z.strictObject({
    exp,
    bins: z.strictObject({ offset: z.number().int(), counts: z.array(whole).max(MAX_BINS) }),
  }),
});
/** Regression moments of labelled rows (see RegressionAgg in model.ts), with the residual's column. */
const regressionAgg = <N extends typeof numericAggV1 | typeof numericAggV2>(numericAgg: N) =>
  z.strictObject({
    n: whole,
    sumErr: finite,
    sumAbsErr: finite.refine((x) => x >= 0, "expected Σ|e| ≥ 0"),
    sumSqErr: finite.refine((x) => x >= 0, "expected Σe² ≥ 0"),
    sumApe: finite.refine((x) => x >= 0, "expected Σ|e|/|y| ≥ 0"),
    nonZero: whole,
    sumY: finite,
    sumSqY: finite.refine((x) => x >= 0, "expected Σy² ≥ 0"),
    residual: numericAgg,
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

const classBinKey = z
  .string()
  .regex(/^\d+$/, `expected a probability bin 0…${CLASS_BINS}`)
  .refine((b) => Number(b) <= CLASS_BINS, `expected a probability bin 0…${CLASS_BINS}`);
/** [rows, Σp_k, labelled rows, labelled rows truly k] of one class, bin and side (class-cells.ts). */
const classCell = z.tuple([whole, finite.refine((x) => x >= 0, "expected Σp ≥ 0"), whole, whole]);
const classCellsAgg = z.strictObject({
  predicted: z.record(classBinKey, classCell),
  other: z.record(classBinKey, classCell),
});

const rollupOf = <F extends 1 | 2, N extends typeof numericAggV1 | typeof numericAggV2>(
  format: F,
  numericAgg: N,
) =>
  z.strictObject({
    format: z.literal(format),
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
    regression: regressionAgg(numericAgg).nullable().optional(),
    classCells: z
      .record(z.string().min(1).max(200), classCellsAgg)
      .refine((m) => Object.keys(m).length <= MAX_CLASSES, `expected at most ${MAX_CLASSES} classes`)
      .nullable()
      .optional(),
  });

/** The rollup document: format 2, or format 1 (decoded by format.ts). */
export const rollupSchema = z.discriminatedUnion("format", [
  rollupOf(2, numericAggV2),
  rollupOf(1, numericAggV1),
]);

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

/** A validated profile, its rollup decoded to the current format. */
export type Profile = { id: string; model_version: string; bucket: string; rollup: RollupData };

const sum = (m: Record<string, number>) => Object.values(m).reduce((s, x) => s + x, 0);

/** The configured features a profile may carry, by type. */
export interface ProfileFeatures {
  numeric: ReadonlySet<string>;
  categorical: ReadonlySet<string>;
  /** Whether the model is a regression (only then may a profile carry `regression`). */
  regression?: boolean;
  /** Whether the model is multiclass (only then may a profile carry `classCells`). */
  multiclass?: boolean;
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
  const numericOk = (path: string, a: NumericAgg) => {
    if (a.n > r.rows) return { path: `${path}.n`, message: `more values (${a.n}) than rows (${r.rows})` };
    if (a.n > 0 && (a.min === null || a.max === null || a.min > a.max))
      return { path: `${path}.min`, message: "min and max are required and min ≤ max when n > 0" };
    const sketch = a.sketch.zero + countsTotal(a.sketch.pos) + countsTotal(a.sketch.neg);
    if (sketch !== a.n) return { path: `${path}.sketch`, message: `holds ${sketch} values, n is ${a.n}` };
    const aligned = countsTotal(a.aligned.bins);
    if (aligned !== a.n) return { path: `${path}.aligned`, message: `holds ${aligned} values, n is ${a.n}` };
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
  const g = r.regression;
  if (g) {
    if (!features.regression)
      return {
        path: "rollup.regression",
        message: "only a regression model's profile holds regression moments",
      };
    const bad = numericOk("rollup.regression.residual", g.residual);
    if (bad) return bad;
    if (g.residual.n !== g.n)
      return { path: "rollup.regression.residual.n", message: `must equal regression.n (${g.n})` };
    if (g.nonZero > g.n)
      return {
        path: "rollup.regression.nonZero",
        message: `more rows with y ≠ 0 than labelled rows (${g.n})`,
      };
  }
  if (r.classCells) {
    const bad = checkClassCells(r, features);
    if (bad) return bad;
  }
  if (labelled + (g?.n ?? 0) > r.rows)
    return { path: "rollup.labels", message: `more labelled rows (${labelled + (g?.n ?? 0)}) than rows` };
  return null;
}

/**
 * A profile's class cells: only for a multiclass model; per cell Σp_k within [bin/1000, (bin+1)/1000]
 * per row and labelled ≤ rows, truly-k ≤ labelled; per class at most `rows` rows; and the rows
 * predicting a class (each row sits in one `predicted` cell) at most `rows` in all.
 */
function checkClassCells(r: RollupData, features: ProfileFeatures): { path: string; message: string } | null {
  if (!features.multiclass)
    return { path: "rollup.classCells", message: "only a multiclass model's profile holds class cells" };
  let predictedRows = 0;
  for (const [cls, agg] of Object.entries(r.classCells ?? {})) {
    let rows = 0;
    for (const side of ["predicted", "other"] as const)
      for (const [bin, cell] of Object.entries(agg[side])) {
        const path = `rollup.classCells.${cls}.${side}.${bin}`;
        const [n, sp, labelled, pos] = cell as ClassCell;
        const lo = Number(bin) / CLASS_BINS;
        const hi = Math.min(1, (Number(bin) + 1) / CLASS_BINS);
        if (labelled > n || pos > labelled) return { path, message: "expected truly-k ≤ labelled ≤ rows" };
        if (sp < n * lo - 1e-9 * n || sp > n * hi + 1e-9 * n)
          return { path, message: `Σp of ${n} rows must lie in [${n} × ${lo}, ${n} × ${hi}]` };
        rows += n;
        if (side === "predicted") predictedRows += n;
      }
    if (rows > r.rows)
      return {
        path: `rollup.classCells.${cls}`,
        message: `more rows (${rows}) than the profile's (${r.rows})`,
      };
  }
  if (predictedRows > r.rows)
    return {
      path: "rollup.classCells",
      message: `more predicting rows (${predictedRows}) than the profile's rows (${r.rows})`,
    };
  return null;
}
