/**
 * CBPE for multiclass classifiers, as NannyML does it: each class's probability is calibrated
 * one-vs-rest on labelled reference rows (isotonic, kept only where it lowers the ECE), the
 * calibrated vector of each row is normalised to sum to 1, and the expected confusion entries of
 * each class are sums of those probabilities. Estimated accuracy is the mean calibrated
 * probability of the predicted class; macro F1 the mean over classes of 2TP/(2TP + FP + FN).
 */
import {
  type Calibration,
  calibrate,
  calibratedSum,
  chooseCalibrationGroups,
  type ScoreGroup,
} from "./cbpe.js";

/** One-vs-rest calibrations, one per class (null: the raw probability calibrates better). */
export type MulticlassCalibration = (Calibration | null)[];

/** Estimated (or realised) multiclass metrics with the per-class expected confusion entries. */
export interface MulticlassEstimate {
  accuracy: number;
  macroF1: number;
  tp: number[];
  fp: number[];
  fn: number[];
}

/**
 * Fits one calibration per class on labelled reference rows: `probs[i][k]` is row i's probability
 * of class k, `labels[i]` its true class index. Rows are reduced to score groups first (as the
 * SQL reduction of the reference does), so the fit costs the distinct scores, not the rows.
 */
export function fitMulticlassCalibration(
  probs: readonly (readonly number[])[],
  labels: readonly number[],
  classes: number,
): MulticlassCalibration {
  const out: MulticlassCalibration = [];
  for (let k = 0; k < classes; k++) {
    const groups = new Map<number, ScoreGroup>();
    probs.forEach((p, i) => {
      const score = p[k] as number;
      const g = groups.get(score) ?? { score, pos: 0, neg: 0 };
      if (labels[i] === k) g.pos += 1;
      else g.neg += 1;
      groups.set(score, g);
    });
    out.push(chooseCalibrationGroups([...groups.values()]));
  }
  return out;
}

/** A row's calibrated probabilities, normalised to sum to 1 (uniform when every one is 0). */
export function calibrateRow(p: readonly number[], cals: MulticlassCalibration): number[] {
  const c = p.map((v, k) => {
    const cal = cals[k];
    return cal ? calibrate(cal, v) : v;
  });
  const sum = c.reduce((a, b) => a + b, 0);
  return sum > 0 ? c.map((v) => v / sum) : c.map(() => 1 / c.length);
}

/** Macro F1 from per-class TP, FP, FN; a class with 2TP + FP + FN = 0 counts as F1 0 (as sklearn). */
function macroF1(tp: number[], fp: number[], fn: number[]): number {
  let s = 0;
  for (let k = 0; k < tp.length; k++) {
    const d = 2 * (tp[k] as number) + (fp[k] as number) + (fn[k] as number);
    s += d > 0 ? (2 * (tp[k] as number)) / d : 0;
  }
  return tp.length ? s / tp.length : Number.NaN;
}

/**
 * Multiclass CBPE on rows: raw probability vectors, predicted class indices and the reference's
 * calibrations. TP_k = Σ_{ŷ=k} p_k, FP_k = Σ_{ŷ=k} (1 − p_k), FN_k = Σ_{ŷ≠k} p_k.
 */
export function multiclassCbpe(
  probs: readonly (readonly number[])[],
  predicted: readonly number[],
  cals: MulticlassCalibration,
): MulticlassEstimate {
  const classes = cals.length;
  const tp = new Array<number>(classes).fill(0);
  const fp = new Array<number>(classes).fill(0);
  const fn = new Array<number>(classes).fill(0);
  let hit = 0;
  probs.forEach((raw, i) => {
    const p = calibrateRow(raw, cals);
    const yhat = predicted[i] as number;
    hit += p[yhat] as number;
    for (let k = 0; k < classes; k++) {
      if (k === yhat) {
        tp[k] = (tp[k] as number) + (p[k] as number);
        fp[k] = (fp[k] as number) + 1 - (p[k] as number);
      } else fn[k] = (fn[k] as number) + (p[k] as number);
    }
  });
  return {
    accuracy: probs.length ? hit / probs.length : Number.NaN,
    macroF1: macroF1(tp, fp, fn),
    tp,
    fp,
    fn,
  };
}

/** Realised accuracy and macro F1 of predicted against true class indices. */
export function multiclassRealised(
  predicted: readonly number[],
  labels: readonly number[],
  classes: number,
): MulticlassEstimate {
  const tp = new Array<number>(classes).fill(0);
  const fp = new Array<number>(classes).fill(0);
  const fn = new Array<number>(classes).fill(0);
  let hit = 0;
  predicted.forEach((yhat, i) => {
    const y = labels[i] as number;
    if (yhat === y) {
      hit += 1;
      tp[y] = (tp[y] as number) + 1;
    } else {
      fp[yhat] = (fp[yhat] as number) + 1;
      fn[y] = (fn[y] as number) + 1;
    }
  });
  return {
    accuracy: predicted.length ? hit / predicted.length : Number.NaN,
    macroF1: macroF1(tp, fp, fn),
    tp,
    fp,
    fn,
  };
}

/**
 * The fallback when only the predicted class's confidence is stored: calibrate P(correct) on the
 * reference's confidence (isotonic where it lowers the ECE); estimated accuracy is then the mean
 * calibrated confidence of a window. Exact in expectation for accuracy; macro F1 is not estimable.
 */
export function confidenceAccuracyCalibration(
  confidence: readonly number[],
  correct: readonly boolean[],
): Calibration | null {
  const groups = new Map<number, ScoreGroup>();
  confidence.forEach((score, i) => {
    const g = groups.get(score) ?? { score, pos: 0, neg: 0 };
    if (correct[i]) g.pos += 1;
    else g.neg += 1;
    groups.set(score, g);
  });
  return chooseCalibrationGroups([...groups.values()]);
}

/** Estimated accuracy from the predicted class's confidence and the fallback calibration. */
export function accuracyFromConfidence(confidence: readonly number[], cal: Calibration | null): number {
  if (confidence.length === 0) return Number.NaN;
  let s = 0;
  for (const c of confidence) s += cal ? calibrate(cal, c) : c;
  return s / confidence.length;
}

/**
 * The fallback's estimated accuracy from SQL buckets of the predicted class's confidence (count
 * and Σ confidence per calibration bucket): Σ calibrated confidence / rows; NaN for no rows.
 */
export function estimatedAccuracy(
  buckets: readonly { bucket: number; n: number; sp: number }[],
  cal: Calibration | null,
): number {
  let n = 0;
  let s = 0;
  for (const b of buckets) {
    n += b.n;
    s += calibratedSum(cal, b.bucket, b.n, b.sp);
  }
  return n > 0 ? s / n : Number.NaN;
}
