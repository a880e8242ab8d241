/**
 * Embedding drift, second opinion: can a classifier tell reference vectors from recent ones?
 * Logistic regression trained by full-batch gradient descent on standardised inputs, scored by
 * k-fold cross-validated ROC AUC (out-of-fold scores pooled). 0.5 means indistinguishable;
 * Evidently's default flags drift at AUC > 0.55. No dependency: a few hundred lines of BLAS would
 * not be faster for 4,000 × 384.
 */
import { rocAuc } from "./classification.js";

/** Training knobs (defaults: 5 folds, 60 epochs, step 0.5, L2 1e-3). */
export interface ClassifierOptions {
  folds?: number;
  epochs?: number;
  step?: number;
  l2?: number;
  /** Seed of the fold shuffle, so a run is repeatable. */
  seed?: number;
}

/** Evidently's default: drift when the domain classifier's ROC AUC exceeds this. */
export const DOMAIN_AUC_THRESHOLD = 0.55;

function mulberry(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Trains a logistic regression; returns weights (last one the intercept). */
export function trainLogistic(
  x: readonly Float64Array[],
  y: readonly number[],
  opts: Required<Omit<ClassifierOptions, "folds" | "seed">>,
): Float64Array {
  const d = x[0]?.length ?? 0;
  const w = new Float64Array(d + 1);
  const g = new Float64Array(d + 1);
  const n = x.length;
  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    g.fill(0);
    for (let i = 0; i < n; i++) {
      const xi = x[i] as Float64Array;
      let s = w[d] as number;
      for (let j = 0; j < d; j++) s += (w[j] as number) * (xi[j] as number);
      const err = 1 / (1 + Math.exp(-s)) - (y[i] as number);
      for (let j = 0; j < d; j++) g[j] = (g[j] as number) + err * (xi[j] as number);
      g[d] = (g[d] as number) + err;
    }
    for (let j = 0; j <= d; j++)
      w[j] = (w[j] as number) - opts.step * ((g[j] as number) / n + (j < d ? opts.l2 * (w[j] as number) : 0));
  }
  return w;
}

/**
 * Cross-validated ROC AUC of telling `current` from `reference` vectors; null when either side
 * has fewer rows than folds.
 */
export function domainClassifierAuc(
  reference: readonly ArrayLike<number>[],
  current: readonly ArrayLike<number>[],
  options: ClassifierOptions = {},
): number | null {
  const folds = options.folds ?? 5;
  const opts = { epochs: options.epochs ?? 60, step: options.step ?? 0.5, l2: options.l2 ?? 1e-3 };
  if (reference.length < folds || current.length < folds) return null;
  const all = [...reference, ...current];
  const y = all.map((_, i) => (i < reference.length ? 0 : 1));
  const d = all[0]?.length ?? 0;
  const mean = new Float64Array(d);
  const sd = new Float64Array(d);
  for (const v of all)
    for (let j = 0; j < d; j++) mean[j] = (mean[j] as number) + (v[j] as number) / all.length;
  for (const v of all)
    for (let j = 0; j < d; j++)
      sd[j] = (sd[j] as number) + ((v[j] as number) - (mean[j] as number)) ** 2 / all.length;
  const x = all.map((v) =>
    Float64Array.from(v, (a, j) => (a - (mean[j] as number)) / (Math.sqrt(sd[j] as number) || 1)),
  );
  const rand = mulberry(options.seed ?? 1);
  const fold = all.map(() => Math.floor(rand() * folds));
  const scores = new Array<number>(all.length).fill(0);
  for (let f = 0; f < folds; f++) {
    const train = x.filter((_, i) => fold[i] !== f);
    const w = trainLogistic(
      train,
      y.filter((_, i) => fold[i] !== f),
      opts,
    );
    x.forEach((xi, i) => {
      if (fold[i] !== f) return;
      let s = w[d] as number;
      for (let j = 0; j < d; j++) s += (w[j] as number) * (xi[j] as number);
      scores[i] = s;
    });
  }
  return rocAuc(scores, y as (0 | 1)[]);
}
