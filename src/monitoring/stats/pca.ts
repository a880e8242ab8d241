/**
 * Multivariate drift by PCA reconstruction error (NannyML's "data reconstruction" method): fit a
 * PCA on the standardised reference, keep the components that explain a share of the variance,
 * and score each row by how far it lies from the reference's principal subspace. A change in the
 * features' joint distribution (a correlation that breaks) moves this score even when every
 * marginal distribution stays the same, which univariate drift tests cannot see.
 */
import { EigenvalueDecomposition, Matrix } from "ml-matrix";

/** A fitted PCA, stored as plain JSON in the reference profile. */
export interface PcaFit {
  /** Column names, in the order of every vector below. */
  columns: string[];
  /** Standardisation: z = (x − mean) / scale (scale = population σ, 1 where σ = 0, as scikit-learn). */
  mean: number[];
  scale: number[];
  /** Kept components, one unit row vector each (k × d), by decreasing variance. */
  components: number[][];
  /** Share of the standardised variance each kept component explains. */
  explained: number[];
  /** The variance share asked for (components are kept until their sum exceeds it). */
  variance: number;
  /** Each column's mean squared residual over the reference: what a finding's shares compare with. */
  baseline: number[];
}

/** Eigen-decomposition of a symmetric matrix, eigenpairs by decreasing eigenvalue. */
export function symmetricEigen(m: number[][]): { values: number[]; vectors: number[][] } {
  const evd = new EigenvalueDecomposition(new Matrix(m), { assumeSymmetric: true });
  const vals = evd.realEigenvalues;
  const vecs = evd.eigenvectorMatrix;
  const order = vals.map((_, i) => i).sort((a, b) => (vals[b] as number) - (vals[a] as number));
  return {
    values: order.map((i) => Math.max(0, vals[i] as number)),
    vectors: order.map((i) => vecs.getColumn(i)),
  };
}

/** Column means and population standard deviations of `rows` (n × d). */
export function columnMoments(
  rows: readonly (readonly number[])[],
  d: number,
): { mean: number[]; std: number[] } {
  const mean = new Array<number>(d).fill(0);
  for (const r of rows) for (let j = 0; j < d; j++) mean[j] = (mean[j] as number) + (r[j] as number);
  for (let j = 0; j < d; j++) mean[j] = (mean[j] as number) / rows.length;
  const std = new Array<number>(d).fill(0);
  for (const r of rows)
    for (let j = 0; j < d; j++) std[j] = (std[j] as number) + ((r[j] as number) - (mean[j] as number)) ** 2;
  for (let j = 0; j < d; j++) std[j] = Math.sqrt((std[j] as number) / rows.length);
  return { mean, std };
}

/** The covariance (ddof 0) of rows already centred. */
export function covariance(rows: readonly (readonly number[])[], d: number): number[][] {
  const c = Array.from({ length: d }, () => new Array<number>(d).fill(0));
  for (const r of rows)
    for (let i = 0; i < d; i++) {
      const ri = r[i] as number;
      if (ri === 0) continue;
      const ci = c[i] as number[];
      for (let j = i; j < d; j++) ci[j] = (ci[j] as number) + ri * (r[j] as number);
    }
  for (let i = 0; i < d; i++)
    for (let j = i; j < d; j++) {
      const v = ((c[i] as number[])[j] as number) / rows.length;
      (c[i] as number[])[j] = v;
      (c[j] as number[])[i] = v;
    }
  return c;
}

/**
 * How many components to keep: the fewest whose explained shares sum to more than `variance`
 * (scikit-learn's `PCA(n_components=0.65)`), at least one.
 */
export function componentsFor(shares: readonly number[], variance: number): number {
  let sum = 0;
  for (let k = 0; k < shares.length; k++) {
    sum += shares[k] as number;
    if (sum > variance) return k + 1;
  }
  return Math.max(1, shares.length);
}

/** Fits the PCA on reference rows (n × d, no missing values: impute before). */
export function fitPca(
  columns: readonly string[],
  rows: readonly (readonly number[])[],
  variance = 0.65,
): PcaFit {
  const d = columns.length;
  if (rows.length < 2 || d < 2)
    throw new Error(`a PCA needs at least 2 rows and 2 columns (got ${rows.length} × ${d})`);
  const { mean, std } = columnMoments(rows, d);
  const scale = std.map((s) => (s > 0 ? s : 1));
  const z = rows.map((r) => r.map((x, j) => (x - (mean[j] as number)) / (scale[j] as number)));
  const { values, vectors } = symmetricEigen(covariance(z, d));
  const total = values.reduce((s, v) => s + v, 0) || 1;
  const shares = values.map((v) => v / total);
  const k = componentsFor(shares, variance);
  const fit: PcaFit = {
    columns: [...columns],
    mean,
    scale,
    components: vectors.slice(0, k),
    explained: shares.slice(0, k),
    variance,
    baseline: [],
  };
  fit.baseline = squaredResiduals(fit, rows);
  return fit;
}

/** Each column's mean squared standardised residual over `rows`. */
export function squaredResiduals(fit: PcaFit, rows: readonly (readonly number[])[]): number[] {
  const d = fit.columns.length;
  const sums = new Array<number>(d).fill(0);
  const r = new Array<number>(d);
  for (const x of rows) {
    residual(fit, x, r);
    for (let j = 0; j < d; j++) sums[j] = (sums[j] as number) + (r[j] as number) ** 2;
  }
  return sums.map((s) => s / Math.max(1, rows.length));
}

/**
 * The standardised residual of one row (z minus its projection on the kept components), written
 * into `out`; returns its Euclidean norm, the row's reconstruction error.
 */
export function residual(fit: PcaFit, x: readonly number[], out: number[]): number {
  const d = fit.columns.length;
  for (let j = 0; j < d; j++)
    out[j] = ((x[j] as number) - (fit.mean[j] as number)) / (fit.scale[j] as number);
  const z = out.slice();
  for (const w of fit.components) {
    let p = 0;
    for (let j = 0; j < d; j++) p += (w[j] as number) * (z[j] as number);
    for (let j = 0; j < d; j++) out[j] = (out[j] as number) - p * (w[j] as number);
  }
  let sq = 0;
  for (let j = 0; j < d; j++) sq += (out[j] as number) ** 2;
  return Math.sqrt(sq);
}

/** The reconstruction error of one row: ‖z − WᵀWz‖ with z the standardised row. */
export function reconstructionError(fit: PcaFit, x: readonly number[]): number {
  return residual(fit, x, new Array<number>(fit.columns.length));
}

/**
 * Which features carry a rise of the error: each column's share of the growth of the mean squared
 * residual over the reference's (columns whose residual did not grow get 0), largest first. A
 * finding names the top ones ("the error grew in x1 and x2"). `meanSq` is squaredResiduals() of
 * the window.
 */
export function errorShares(fit: PcaFit, meanSq: readonly number[]): { column: string; share: number }[] {
  const growth = fit.columns.map((_, j) => Math.max(0, (meanSq[j] as number) - (fit.baseline[j] as number)));
  const total = growth.reduce((s, v) => s + v, 0) || 1;
  return fit.columns
    .map((column, j) => ({ column, share: (growth[j] as number) / total }))
    .sort((a, b) => b.share - a.share);
}
