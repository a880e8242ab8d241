/**
 * The drift rules, pure: which method and threshold judge a column, what each method measures on
 * a reference profile and a window's reduced counts, and the dataset-level verdict.
 */
import type { ModelConfig } from "../../config/index.js";
import { round } from "../model.js";
import {
  autoMethod,
  type ColumnProfile,
  coarseGroups,
  DEFAULT_THRESHOLDS,
  type DriftMethod,
  isTest,
  needsNumeric,
  RESIDUAL_COLUMN,
  type ReferenceProfile,
  regroup,
} from "../profile.js";
import {
  chiSquareTest,
  hellinger,
  jensenShannon,
  ksBinned,
  normedWasserstein,
  psi,
  twoProportionZTest,
  wasserstein,
} from "../stats/index.js";
import type { Histogram } from "../window-repository.js";
import { driftedShare } from "./importance.js";

/** The drift monitor's config. */
export type DriftConfig = NonNullable<ModelConfig["monitors"]["drift"]>;

/** The current window of one column: a histogram on the reference edges, or category counts. */
export type CurrentColumn =
  | { kind: "numeric"; hist: Histogram }
  | { kind: "categorical"; counts: Map<string, number>; missing: number };

/** The verdict on one column. */
export interface ColumnDrift {
  column: string;
  method: DriftMethod;
  /** The statistic: p-value for tests, distance otherwise. */
  value: number;
  statistic: number;
  threshold: number;
  drifted: boolean;
}

function asMaps(
  col: ColumnProfile,
  cur: CurrentColumn,
): { ref: Map<string, number>; cur: Map<string, number> } {
  if (col.kind === "categorical" && cur.kind === "categorical")
    return { ref: new Map(Object.entries(col.counts)), cur: cur.counts };
  if (col.kind === "numeric" && cur.kind === "numeric") {
    const groups = col.discrete ? col.counts.map((_, i) => [i]) : coarseGroups(col.counts);
    const r = regroup(col.counts, groups);
    const c = regroup(cur.hist.counts, groups);
    return { ref: new Map(r.map((v, i) => [String(i), v])), cur: new Map(c.map((v, i) => [String(i), v])) };
  }
  throw new Error("column kinds differ between reference and window");
}

/** Applies one method to one column; `value` is what the threshold is compared with. */
export function measure(
  col: ColumnProfile,
  cur: CurrentColumn,
  method: DriftMethod,
): { value: number; statistic: number } {
  if (col.kind === "numeric" && cur.kind === "numeric" && method === "ks") {
    const r = ksBinned(col.counts, cur.hist.counts);
    return { value: r.pValue, statistic: r.statistic };
  }
  if (col.kind === "numeric" && cur.kind === "numeric" && method === "wasserstein") {
    const u: number[] = [];
    const uw: number[] = [];
    col.counts.forEach((n, i) => {
      if (n > 0 && col.means[i] !== null) {
        u.push(col.means[i] as number);
        uw.push(n);
      }
    });
    const v: number[] = [];
    const vw: number[] = [];
    cur.hist.counts.forEach((n, i) => {
      if (n > 0) {
        v.push((cur.hist.sums[i] as number) / n);
        vw.push(n);
      }
    });
    const d = normedWasserstein(wasserstein(u, v, uw, vw), col.std ?? 0);
    return { value: d, statistic: d };
  }
  const maps = asMaps(col, cur);
  const keys = [...new Set([...maps.ref.keys(), ...maps.cur.keys()])];
  const refV = keys.map((k) => maps.ref.get(k) ?? 0);
  const curV = keys.map((k) => maps.cur.get(k) ?? 0);
  switch (method) {
    case "chi2": {
      const r = chiSquareTest(maps.ref, maps.cur);
      return { value: r.pValue, statistic: r.statistic };
    }
    case "ztest": {
      const top = [...maps.ref.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? keys[0] ?? "";
      const n1 = refV.reduce((s, x) => s + x, 0);
      const n2 = curV.reduce((s, x) => s + x, 0);
      const r = twoProportionZTest(maps.ref.get(top) ?? 0, n1, maps.cur.get(top) ?? 0, n2);
      return { value: r.pValue, statistic: r.statistic };
    }
    case "psi":
      return { value: psi(refV, curV), statistic: psi(refV, curV) };
    case "hellinger":
      return { value: hellinger(refV, curV), statistic: hellinger(refV, curV) };
    default:
      return { value: jensenShannon(refV, curV), statistic: jensenShannon(refV, curV) };
  }
}

/** The method and threshold for a column: per-feature override, then the monitor's, then the default. */
export function chooseMethod(
  cfg: DriftConfig,
  name: string,
  col: ColumnProfile,
): { method: DriftMethod; threshold: number } {
  const override = cfg.features[name];
  let method: DriftMethod =
    override?.method && override.method !== "auto"
      ? override.method
      : cfg.method !== "auto"
        ? cfg.method
        : autoMethod(col);
  if (needsNumeric(method) && col.kind !== "numeric") method = autoMethod(col);
  const explicit = override?.threshold ?? (override?.method ? undefined : cfg.threshold);
  return { method, threshold: explicit ?? DEFAULT_THRESHOLDS[method] };
}

/**
 * Judges every column; pure, so simulations can feed it histograms made in process. `weights`
 * (feature importance) weighs the drifted share when the config asks for it; `family` is how many
 * such runs share one Bonferroni family (the segments of a per-segment run).
 */
export function evaluateDrift(
  profile: ReferenceProfile,
  cfg: DriftConfig,
  current: ReadonlyMap<string, CurrentColumn>,
  weights: ReadonlyMap<string, number> | null = null,
  family = 1,
): { columns: ColumnDrift[]; driftShare: number; datasetDrift: boolean; tests: number } {
  const columns = [
    ...profile.features.map((f) => ({ name: f.name, col: f.column })),
    { name: "prediction", col: profile.prediction },
    ...(profile.residual ? [{ name: RESIDUAL_COLUMN, col: profile.residual }] : []),
  ];
  const chosen = columns.map((c) => ({ ...c, ...chooseMethod(cfg, c.name, c.col) }));
  const tests = chosen.filter((c) => isTest(c.method)).length * Math.max(1, family);
  const out: ColumnDrift[] = [];
  for (const c of chosen) {
    const cur = current.get(c.name);
    if (!cur) continue;
    const threshold = isTest(c.method) && cfg.bonferroni && tests > 0 ? c.threshold / tests : c.threshold;
    const m = measure(c.col, cur, c.method);
    const drifted = isTest(c.method) ? m.value < threshold : m.value >= threshold;
    out.push({
      column: c.name,
      method: c.method,
      value: m.value,
      statistic: m.statistic,
      threshold,
      drifted,
    });
  }
  // The dataset-drift share counts input features only: the prediction and residual are outputs.
  const features = out.filter((c) => c.column !== "prediction" && c.column !== RESIDUAL_COLUMN);
  const driftShare = driftedShare(features, cfg.dataset_drift_weighting === "importance" ? weights : null);
  return {
    columns: out,
    driftShare,
    datasetDrift: driftShare >= cfg.dataset_drift_share && features.some((c) => c.drifted),
    tests,
  };
}

/** Words for one column's rule, e.g. "PSI >= 0.2" or "KS p < 0.005 (0.05 / 10, Bonferroni)". */
export function ruleText(c: ColumnDrift, cfg: DriftConfig, tests: number): string {
  const name = {
    ks: "KS",
    chi2: "chi-square",
    ztest: "z-test",
    psi: "PSI",
    jensen_shannon: "Jensen-Shannon",
    wasserstein: "Wasserstein (normed)",
    hellinger: "Hellinger",
  }[c.method];
  if (isTest(c.method))
    return `${name} p < ${round(c.threshold)}${cfg.bonferroni ? ` (${round(c.threshold * tests)} / ${tests}, Bonferroni)` : ""} (fixed threshold)`;
  return `${name} >= ${round(c.threshold)} (fixed threshold)`;
}
