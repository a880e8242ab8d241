/**
 * Builds a reference profile from a window of ingested predictions or a staged labelled upload,
 * entirely from SQL reductions (quantiles, histograms, category counts, confusion cells).
 */
import { activeFeatures, type RegisteredModel } from "../models/index.js";
import { NotEnoughDataError } from "./errors.js";
import { fitEmbeddingReference, fitMultivariate, type MultivariateProfile } from "./multivariate-profile.js";
import type {
  BandMetric,
  CategoricalProfile,
  ColumnProfile,
  FeatureProfile,
  NumericProfile,
  ReferenceProfile,
} from "./profile.js";
import { regressionReference } from "./regression-reference.js";
import {
  calibratedSum,
  cbpeEstimate,
  chooseCalibrationGroups,
  classCellsReference,
  estimatedAccuracy,
  learnedBand,
  metricsFromConfusion,
  rocAucFromGroups,
} from "./stats/index.js";
import type { ColumnRef, NumericColumn, WindowRepository, WindowSource } from "./window-repository.js";

/** Fewest rows a profile is built from. */
export const MIN_REFERENCE_ROWS = 50;
/** Chunks the reference is split into for learned bands. */
export const REFERENCE_CHUNKS = 10;
const PERCENTILES = Array.from({ length: 99 }, (_, i) => (i + 1) / 100);
const DISCRETE_MAX = 20;
/** Most raw rows the multivariate reference is fitted from (evenly spaced, in time order). */
export const MULTIVARIATE_SAMPLE = 5000;

type Numeric = { key: number; ref: ColumnRef };

/** What a column is made of, before its profile is computed. */
interface ColumnPlan {
  key: number;
  kind: "numeric" | "categorical";
  ref: ColumnRef;
}

/**
 * The profile's column plan for a model: features, then confidence (key 1000), then the prediction
 * (1001), and for regression models the residual label − prediction of labelled rows (1002).
 */
export function columnPlan(model: RegisteredModel): {
  features: (ColumnPlan & { name: string; slot: number })[];
  confidence: ColumnPlan;
  prediction: ColumnPlan;
  residual: ColumnPlan | null;
} {
  return {
    features: activeFeatures(model).map((f, i) => ({
      key: i,
      kind: f.type,
      ref: { kind: f.type === "numeric" ? "num" : "cat", slot: f.slot, name: f.name },
      name: f.name,
      slot: f.slot,
    })),
    confidence: { key: 1000, kind: "numeric", ref: { kind: "confidence" } },
    prediction:
      model.task === "regression"
        ? { key: 1001, kind: "numeric", ref: { kind: "prediction", numeric: true } }
        : { key: 1001, kind: "categorical", ref: { kind: "prediction", numeric: false } },
    residual: model.task === "regression" ? { key: 1002, kind: "numeric", ref: { kind: "residual" } } : null,
  };
}

async function numericProfiles(
  windows: WindowRepository,
  src: WindowSource,
  cols: Numeric[],
): Promise<Map<number, NumericProfile>> {
  const described = await windows.describe(src, cols, PERCENTILES);
  const discreteCols = cols.filter((c) => (described.get(c.key)?.distinct ?? 0) <= DISCRETE_MAX);
  const values = await windows.categories(src, discreteCols, DISCRETE_MAX + 1);
  const withEdges: NumericColumn[] = cols.map((c) => {
    const d = described.get(c.key);
    const distinct = values.get(c.key);
    if (distinct) {
      const xs = [...distinct.counts.keys()].map(Number).sort((a, b) => a - b);
      return { ...c, edges: xs.slice(1).map((x, i) => ((xs[i] as number) + x) / 2) };
    }
    return { ...c, edges: [...new Set(d?.quantiles ?? [])].sort((a, b) => a - b) };
  });
  const hist = await windows.histograms(src, withEdges);
  const out = new Map<number, NumericProfile>();
  for (const c of withEdges) {
    const d = described.get(c.key);
    const h = hist.get(c.key);
    if (!d || !h) continue;
    out.set(c.key, {
      kind: "numeric",
      n: d.n + h.missing,
      missing: h.missing,
      edges: [...(c.edges ?? [])],
      counts: h.counts,
      means: h.counts.map((n, i) => (n > 0 ? (h.sums[i] as number) / n : null)),
      min: d.min,
      max: d.max,
      mean: d.mean,
      std: d.std,
      distinct: d.distinct,
      discrete: values.has(c.key),
    });
  }
  return out;
}

async function categoricalProfiles(
  windows: WindowRepository,
  src: WindowSource,
  cols: Numeric[],
): Promise<Map<number, CategoricalProfile>> {
  const counts = await windows.categories(src, cols);
  const out = new Map<number, CategoricalProfile>();
  for (const [key, c] of counts) {
    const n = [...c.counts.values()].reduce((s, x) => s + x, 0) + c.missing;
    out.set(key, {
      kind: "categorical",
      n,
      missing: c.missing,
      counts: Object.fromEntries(c.counts),
      distinct: c.distinct,
    });
  }
  return out;
}

/**
 * The multivariate part of a reference: a PCA fitted on a bounded, time-ordered sample of the
 * source's raw rows. Null when fewer than MIN_REFERENCE_ROWS raw rows remain (retention dropped
 * the window's rows, though its rollups still profile it): the monitor then skips, saying so.
 */
export async function multivariateReference(
  windows: WindowRepository,
  model: RegisteredModel,
  src: WindowSource,
  options: MultivariateOptions,
): Promise<MultivariateProfile | null> {
  const { variance } = options;
  const rows = await windows.sampleRows(src, MULTIVARIATE_SAMPLE);
  const tabular = activeFeatures(model).map((f) => ({ name: f.name, type: f.type, slot: f.slot }));
  const fit: MultivariateProfile =
    rows.length >= MIN_REFERENCE_ROWS
      ? fitMultivariate(rows, tabular, [], { variance, chunks: REFERENCE_CHUNKS })
      : { variance, columns: [], pca: null, embeddings: [], bands: {} };
  if (!fit.pca) {
    fit.columns = [];
    fit.bands = {};
  }
  const notes: Record<string, string> = {};
  for (const e of options.embeddings ?? []) {
    if (e.vectors.length < MIN_REFERENCE_ROWS) {
      notes[e.name] =
        `${e.vectors.length} sampled vectors in the reference (at least ${MIN_REFERENCE_ROWS} needed)${e.missing ? `: ${e.missing}` : ""}`;
      continue;
    }
    const ref = fitEmbeddingReference(e.name, e.vectors, options.components ?? 2, REFERENCE_CHUNKS);
    fit.embeddings.push({ name: e.name, fit: ref.fit });
    Object.assign(fit.bands, ref.bands);
  }
  if (Object.keys(notes).length) fit.embeddingNotes = notes;
  return fit.pca || fit.embeddings.length || fit.embeddingNotes ? fit : null;
}

/** What the baseline fits the multivariate reference with (config `monitors.multivariate`). */
export interface MultivariateOptions {
  variance: number;
  /** Principal directions kept per embedding. */
  components?: number;
  /** Each embedding feature's reference vectors in time order (and, when too few, why). */
  embeddings?: readonly { name: string; vectors: readonly ArrayLike<number>[]; missing?: string }[];
}

/**
 * Computes a model's reference profile from `src`; throws NotEnoughDataError under
 * MIN_REFERENCE_ROWS rows. With `multivariate`, the profile carries the multivariate fit too.
 */
export async function buildReferenceProfile(
  windows: WindowRepository,
  model: RegisteredModel,
  src: WindowSource,
  options: { multivariate?: MultivariateOptions } = {},
): Promise<ReferenceProfile> {
  const summary = await windows.summary(src, model.confidenceThreshold);
  if (summary.rows < MIN_REFERENCE_ROWS)
    throw new NotEnoughDataError(
      `a reference needs at least ${MIN_REFERENCE_ROWS} predictions; this one has ${summary.rows}`,
    );
  const plan = columnPlan(model);
  const regression = plan.residual ? await regressionReference(windows, src, REFERENCE_CHUNKS) : null;
  // The residual gets a profile only from enough labelled rows to fit its bins.
  const residual = regression && regression.labelled >= MIN_REFERENCE_ROWS ? plan.residual : null;
  const all = [...plan.features, plan.confidence, plan.prediction, ...(residual ? [residual] : [])];
  const numeric = await numericProfiles(
    windows,
    src,
    all.filter((c) => c.kind === "numeric"),
  );
  const categorical = await categoricalProfiles(
    windows,
    src,
    all.filter((c) => c.kind === "categorical"),
  );
  const column = (key: number): ColumnProfile => (numeric.get(key) ?? categorical.get(key)) as ColumnProfile;
  const features: FeatureProfile[] = plan.features.map((f) => ({
    name: f.name,
    type: f.kind,
    slot: f.slot,
    column: column(f.key),
  }));
  const confidence = summary.withConfidence > 0 ? (numeric.get(plan.confidence.key) ?? null) : null;

  const positiveClass = model.task === "binary_classification" ? "1" : null;
  const chunkValues: Partial<Record<BandMetric, (number | null)[]>> = {};
  const byChunk = <T extends { chunk: number }>(rows: T[]) => {
    const m = new Map<number, T[]>();
    // Appended in place: a chunk's class cells run to thousands of rows.
    for (const r of rows) {
      const list = m.get(r.chunk);
      if (list) list.push(r);
      else m.set(r.chunk, [r]);
    }
    return [...m.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => v);
  };

  const confChunks = await windows.confidenceChunks(src, model.confidenceThreshold, REFERENCE_CHUNKS);
  chunkValues.low_confidence_share = confChunks
    .sort((a, b) => a.chunk - b.chunk)
    .map((c) => (c.n > 0 ? c.low / c.n : null));
  chunkValues.mean_confidence = confChunks.map((c) => c.mean);

  let performance: ReferenceProfile["performance"] = null;
  let calibration: ReferenceProfile["calibration"] = null;
  let accuracyCalibration: ReferenceProfile["calibration"] = null;
  let classCalibration: ReferenceProfile["classCalibration"] = null;
  if (model.task !== "regression" && summary.labelled >= MIN_REFERENCE_ROWS) {
    const whole = metricsFromConfusion(await windows.confusion(src, 1), positiveClass);
    const chunks = byChunk(await windows.confusion(src, REFERENCE_CHUNKS)).map((cells) =>
      metricsFromConfusion(cells, positiveClass),
    );
    for (const m of ["accuracy", "precision", "recall", "f1"] as const)
      chunkValues[m] = chunks.map((c) => c[m]);
    let auc: number | null = null;
    if (positiveClass) {
      const groups = await windows.scoreGroups(src, positiveClass, 1);
      auc = rocAucFromGroups(groups);
      chunkValues.roc_auc = byChunk(await windows.scoreGroups(src, positiveClass, REFERENCE_CHUNKS)).map(
        (g) => rocAucFromGroups(g),
      );
      calibration = chooseCalibrationGroups(groups);
      const buckets = byChunk(
        await windows.cbpeBuckets(src, positiveClass, calibration?.x ?? [], REFERENCE_CHUNKS),
      );
      const estimates = buckets.map((rows) => {
        const s = { posP: 0, posN: 0, negP: 0, negN: 0 };
        for (const b of rows) {
          const sp = calibratedSum(calibration, b.bucket, b.n, b.sp);
          if (b.pos) {
            s.posP += sp;
            s.posN += b.n;
          } else {
            s.negP += sp;
            s.negN += b.n;
          }
        }
        return cbpeEstimate(s);
      });
      chunkValues.cbpe_accuracy = estimates.map((e) => e.accuracy);
      chunkValues.cbpe_f1 = estimates.map((e) => e.f1);
    }
    if (model.task === "multiclass_classification") {
      accuracyCalibration = chooseCalibrationGroups(await windows.correctGroups(src, 1));
      chunkValues.cbpe_accuracy = byChunk(
        await windows.confidenceBuckets(src, accuracyCalibration?.x ?? [], REFERENCE_CHUNKS),
      ).map((rows) => estimatedAccuracy(rows, accuracyCalibration));
      const cells = await windows.classCells(src, 1);
      const labelledWithProbabilities = cells.reduce((s, c) => s + (c.predicted ? c.labelled : 0), 0);
      if (labelledWithProbabilities >= MIN_REFERENCE_ROWS) {
        // Class probabilities: NannyML's one-vs-rest calibrations, and the bands of the cell
        // estimate (accuracy too, replacing the confidence fallback's band it refines).
        const learned = classCellsReference(cells, byChunk(await windows.classCells(src, REFERENCE_CHUNKS)));
        classCalibration = learned.calibration;
        chunkValues.cbpe_accuracy = learned.accuracy;
        chunkValues.cbpe_macro_f1 = learned.macroF1;
      }
    }
    performance = { ...whole, roc_auc: auc };
  }
  if (regression && regression.labelled >= MIN_REFERENCE_ROWS) {
    performance = regression.performance;
    Object.assign(chunkValues, regression.chunkValues);
  }
  const bands = Object.fromEntries(Object.entries(chunkValues).map(([k, v]) => [k, learnedBand(v)]));
  const multivariate = options.multivariate
    ? await multivariateReference(windows, model, src, options.multivariate)
    : undefined;
  return {
    formatVersion: 1,
    rows: summary.rows,
    labelledRows: summary.labelled,
    from: summary.first?.toISOString() ?? null,
    to: summary.last?.toISOString() ?? null,
    features,
    confidence,
    prediction: column(plan.prediction.key),
    ...(plan.residual ? { residual: residual ? (numeric.get(residual.key) ?? null) : null } : {}),
    lowConfidenceShare: summary.withConfidence > 0 ? summary.lowConfidence / summary.withConfidence : null,
    positiveClass,
    performance,
    calibration,
    ...(model.task === "multiclass_classification" ? { accuracyCalibration, classCalibration } : {}),
    chunks: REFERENCE_CHUNKS,
    chunkValues,
    bands,
    ...(multivariate !== undefined ? { multivariate } : {}),
  };
}
