/**
 * Multiclass CBPE from aggregates, the shape a rollup can keep: per class k and per bin of the raw
 * p_k (0.001 wide), split by whether the row predicted k, the count and Σp_k, plus, for labelled
 * rows, how many were truly k. Cells merge by addition. NannyML normalises each row's calibrated
 * vector, which aggregates cannot do; `multiclassCbpeFromCells` instead rescales all calibrated
 * mass so that it sums to the row count (a window-level normalisation). The simulation in
 * test/monitoring/cbpe-multiclass.test.ts measures how far that lands from the per-row method.
 */
import { calibrate, chooseCalibrationGroups, type ScoreGroup } from "./cbpe.js";
import type { MulticlassCalibration, MulticlassEstimate } from "./cbpe-multiclass.js";

/** Bins per unit of probability (a bin is 0.001 wide, as the rollups' confidence bins). */
export const PROBABILITY_BINS = 1000;

/** One cell: rows whose p_k falls in `bin`, predicted k or not; `pos` of them labelled k. */
export interface ClassBinCell {
  k: number;
  bin: number;
  predicted: boolean;
  n: number;
  sp: number;
  /** Labelled rows in the cell (absent or 0 in an unlabelled window). */
  labelled?: number;
  /** Labelled rows whose true class is k. */
  pos?: number;
}

const keyOf = (k: number, bin: number, predicted: boolean) =>
  (k * (PROBABILITY_BINS + 1) + bin) * 2 + (predicted ? 1 : 0);

/** Reduces rows to cells (what ingest would add to a rollup); `labels` only for labelled rows. */
export function multiclassCells(
  probs: readonly (readonly number[])[],
  predicted: readonly number[],
  labels?: readonly number[],
): ClassBinCell[] {
  const cells = new Map<number, ClassBinCell>();
  probs.forEach((p, i) => {
    for (let k = 0; k < p.length; k++) {
      const v = p[k] as number;
      const bin = Math.min(PROBABILITY_BINS, Math.floor(v * PROBABILITY_BINS));
      const isPred = predicted[i] === k;
      const key = keyOf(k, bin, isPred);
      let c = cells.get(key);
      if (!c) {
        c = { k, bin, predicted: isPred, n: 0, sp: 0, labelled: 0, pos: 0 };
        cells.set(key, c);
      }
      c.n += 1;
      c.sp += v;
      if (labels) {
        c.labelled = (c.labelled ?? 0) + 1;
        if (labels[i] === k) c.pos = (c.pos ?? 0) + 1;
      }
    }
  });
  return [...cells.values()];
}

/** Adds cells of several windows (rollup buckets) into one list. */
export function mergeMulticlassCells(...lists: readonly (readonly ClassBinCell[])[]): ClassBinCell[] {
  const out = new Map<number, ClassBinCell>();
  for (const list of lists)
    for (const c of list) {
      const key = keyOf(c.k, c.bin, c.predicted);
      const o = out.get(key);
      if (!o) out.set(key, { ...c });
      else {
        o.n += c.n;
        o.sp += c.sp;
        o.labelled = (o.labelled ?? 0) + (c.labelled ?? 0);
        o.pos = (o.pos ?? 0) + (c.pos ?? 0);
      }
    }
  return [...out.values()];
}

/** One-vs-rest calibrations from labelled cells: each bin's mean p_k is one isotonic score group. */
export function fitMulticlassCalibrationCells(
  cells: readonly ClassBinCell[],
  classes: number,
): MulticlassCalibration {
  const out: MulticlassCalibration = [];
  for (let k = 0; k < classes; k++) {
    const groups = new Map<number, ScoreGroup & { sp: number; n: number }>();
    for (const c of cells) {
      if (c.k !== k || !c.labelled) continue;
      const g = groups.get(c.bin) ?? { score: 0, pos: 0, neg: 0, sp: 0, n: 0 };
      // Σp over labelled rows is not kept apart; the cell mean stands in (bins are 0.001 wide).
      g.sp += (c.sp / c.n) * c.labelled;
      g.n += c.labelled;
      g.pos += c.pos ?? 0;
      g.neg += c.labelled - (c.pos ?? 0);
      groups.set(c.bin, g);
    }
    const list = [...groups.values()].map((g) => ({ score: g.sp / g.n, pos: g.pos, neg: g.neg }));
    out.push(list.length ? chooseCalibrationGroups(list) : null);
  }
  return out;
}

/**
 * Estimated accuracy and macro F1 from cells and the reference's calibrations: each cell's
 * calibrated mass is n · c_k(mean p_k), all of it rescaled by rows / Σ mass (the window-level
 * stand-in for NannyML's per-row normalisation); TP_k and FN_k are the rescaled mass of cells
 * predicted k and not, FP_k = rows predicted k − TP_k.
 */
export function multiclassCbpeFromCells(
  cells: readonly ClassBinCell[],
  cals: MulticlassCalibration,
): MulticlassEstimate {
  const classes = cals.length;
  const tp = new Array<number>(classes).fill(0);
  const fn = new Array<number>(classes).fill(0);
  const predictedRows = new Array<number>(classes).fill(0);
  let mass = 0;
  for (const c of cells) {
    if (c.n === 0 || c.k >= classes) continue;
    const cal = cals[c.k];
    const m = c.n * (cal ? calibrate(cal, c.sp / c.n) : c.sp / c.n);
    mass += m;
    if (c.predicted) {
      tp[c.k] = (tp[c.k] as number) + m;
      predictedRows[c.k] = (predictedRows[c.k] as number) + c.n;
    } else fn[c.k] = (fn[c.k] as number) + m;
  }
  const rows = predictedRows.reduce((a, b) => a + b, 0);
  const scale = mass > 0 ? rows / mass : 1;
  let hit = 0;
  let f1 = 0;
  const fp = new Array<number>(classes).fill(0);
  for (let k = 0; k < classes; k++) {
    tp[k] = (tp[k] as number) * scale;
    fn[k] = (fn[k] as number) * scale;
    fp[k] = (predictedRows[k] as number) - (tp[k] as number);
    hit += tp[k] as number;
    const d = 2 * (tp[k] as number) + (fp[k] as number) + (fn[k] as number);
    f1 += d > 0 ? (2 * (tp[k] as number)) / d : 0;
  }
  return {
    accuracy: rows > 0 ? hit / rows : Number.NaN,
    macroF1: classes > 0 && rows > 0 ? f1 / classes : Number.NaN,
    tp,
    fp,
    fn,
  };
}

/** A class cell named by its class (what the window reductions return), as ClassBinCell. */
export type NamedClassCell = Omit<ClassBinCell, "k"> & { cls: string };

/** The reference's one-vs-rest calibrations, one per class, by class name (null: raw p_k). */
export interface ClassCalibration {
  classes: string[];
  calibrations: MulticlassCalibration;
}

/** Named cells as indexed ones (one plain object each: a reference has thousands). */
function indexedCells(cells: readonly NamedClassCell[], index: ReadonlyMap<string, number>): ClassBinCell[] {
  const out: ClassBinCell[] = new Array(cells.length);
  for (let i = 0; i < cells.length; i++) {
    const c = cells[i] as NamedClassCell;
    out[i] = {
      k: index.get(c.cls) as number,
      bin: c.bin,
      predicted: c.predicted,
      n: c.n,
      sp: c.sp,
      labelled: c.labelled ?? 0,
      pos: c.pos ?? 0,
    };
  }
  return out;
}

/** The reference's calibrations from its labelled class cells; classes in code-unit order. */
export function fitClassCalibration(cells: readonly NamedClassCell[]): ClassCalibration {
  const classes = [...new Set(cells.map((c) => c.cls))].sort();
  const index = new Map(classes.map((c, i) => [c, i]));
  return { classes, calibrations: fitMulticlassCalibrationCells(indexedCells(cells, index), classes.length) };
}

/**
 * Estimated accuracy and macro F1 of a window's named cells against the reference's
 * calibrations (multiclassCbpeFromCells). A class the reference never saw joins with its raw
 * probability (no calibration) and counts in the macro average. `rows`: rows with probabilities.
 */
export function estimateFromClassCells(
  cells: readonly NamedClassCell[],
  cal: ClassCalibration,
): MulticlassEstimate & { rows: number; classes: string[] } {
  const classes = [...cal.classes];
  const index = new Map(classes.map((c, i) => [c, i]));
  for (const c of cells)
    if (!index.has(c.cls)) {
      index.set(c.cls, classes.length);
      classes.push(c.cls);
    }
  const cals: MulticlassCalibration = classes.map((_, i) => cal.calibrations[i] ?? null);
  const rows = cells.reduce((s, c) => s + (c.predicted ? c.n : 0), 0);
  return { ...multiclassCbpeFromCells(indexedCells(cells, index), cals), rows, classes };
}

/**
 * What a reference learns from its class cells: the calibrations (from the whole reference's
 * labelled cells) and each chunk's estimated accuracy and macro F1 under them (their mean ± 3σ
 * makes the bands `cbpe_accuracy` and `cbpe_macro_f1`).
 */
export function classCellsReference(
  whole: readonly NamedClassCell[],
  chunks: readonly (readonly NamedClassCell[])[],
): { calibration: ClassCalibration; accuracy: number[]; macroF1: number[] } {
  const calibration = fitClassCalibration(whole);
  const estimates = chunks.map((cells) => estimateFromClassCells(cells, calibration));
  return {
    calibration,
    accuracy: estimates.map((e) => e.accuracy),
    macroF1: estimates.map((e) => e.macroF1),
  };
}
