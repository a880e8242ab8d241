/**
 * Confidence-based performance estimation (NannyML's CBPE) for binary classifiers: calibrate the
 * scores on labelled reference data when that lowers the expected calibration error, then estimate
 * the confusion matrix of an unlabelled window from the calibrated probabilities.
 */

/** A monotone map from raw score to calibrated probability: linear between knots, flat outside. */
export interface Calibration {
  x: number[];
  y: number[];
}

/** Expected calibration error over `bins` equal-count bins of the scores (sorted by score). */
export function expectedCalibrationError(
  scores: readonly number[],
  labels: readonly number[],
  bins = 10,
): number {
  const idx = scores.map((_, i) => i).sort((a, b) => (scores[a] as number) - (scores[b] as number));
  const n = idx.length;
  let ece = 0;
  // Same split as numpy.array_split: the first n % bins bins get one extra element.
  const base = Math.floor(n / bins);
  const extra = n % bins;
  let start = 0;
  for (let b = 0; b < bins; b++) {
    const size = base + (b < extra ? 1 : 0);
    if (size === 0) continue;
    let sp = 0;
    let sy = 0;
    for (let k = start; k < start + size; k++) {
      sp += scores[idx[k] as number] as number;
      sy += labels[idx[k] as number] as number;
    }
    ece += (size / n) * Math.abs(sp / size - sy / size);
    start += size;
  }
  return ece;
}

/**
 * Isotonic (increasing) regression of labels on scores by pool-adjacent-violators, ties of a score
 * pooled first; returned as interpolation knots (each pooled block's first and last score).
 */
export function fitIsotonic(scores: readonly number[], labels: readonly number[]): Calibration {
  const byScore = new Map<number, { score: number; pos: number; neg: number }>();
  scores.forEach((s, i) => {
    const g = byScore.get(s) ?? { score: s, pos: 0, neg: 0 };
    if (labels[i] === 1) g.pos += 1;
    else g.neg += 1;
    byScore.set(s, g);
  });
  return fitIsotonicGroups([...byScore.values()]);
}

/** Labelled scores reduced to counts: how many positives and negatives had each score. */
export interface ScoreGroup {
  score: number;
  pos: number;
  neg: number;
}

/** Isotonic regression on score groups (the SQL-reduced form of `fitIsotonic`). */
export function fitIsotonicGroups(groups: readonly ScoreGroup[]): Calibration {
  const sorted = [...groups].filter((g) => g.pos + g.neg > 0).sort((a, b) => a.score - b.score);
  const blocks: { lo: number; hi: number; sum: number; w: number }[] = [];
  for (const g of sorted) {
    const x = g.score;
    blocks.push({ lo: x, hi: x, sum: g.pos, w: g.pos + g.neg });
    while (blocks.length > 1) {
      const b = blocks[blocks.length - 1] as (typeof blocks)[number];
      const a = blocks[blocks.length - 2] as (typeof blocks)[number];
      if (a.sum / a.w <= b.sum / b.w) break;
      blocks.splice(-2, 2, { lo: a.lo, hi: b.hi, sum: a.sum + b.sum, w: a.w + b.w });
    }
  }
  const x: number[] = [];
  const y: number[] = [];
  for (const b of blocks) {
    x.push(b.lo);
    y.push(b.sum / b.w);
    if (b.hi !== b.lo) {
      x.push(b.hi);
      y.push(b.sum / b.w);
    }
  }
  return { x, y };
}

/**
 * ECE of score groups over 10 equal-count bins, a group straddling a bin edge split pro rata;
 * `map` calibrates the scores first when given.
 */
export function expectedCalibrationErrorGroups(
  groups: readonly ScoreGroup[],
  map?: Calibration | null,
  bins = 10,
): number {
  const sorted = [...groups].filter((g) => g.pos + g.neg > 0).sort((a, b) => a.score - b.score);
  const n = sorted.reduce((s, g) => s + g.pos + g.neg, 0);
  if (n === 0) return 0;
  const base = Math.floor(n / bins);
  const extra = n % bins;
  let ece = 0;
  let b = 0;
  let room = base + (extra > 0 ? 1 : 0);
  let sp = 0;
  let sy = 0;
  let size = 0;
  for (const g of sorted) {
    const p = map ? calibrate(map, g.score) : g.score;
    let left = g.pos + g.neg;
    const posShare = g.pos / left;
    while (left > 0) {
      const take = Math.min(left, room);
      sp += take * p;
      sy += take * posShare;
      size += take;
      left -= take;
      room -= take;
      if (room <= 1e-9) {
        if (size > 0) ece += (size / n) * Math.abs(sp / size - sy / size);
        b += 1;
        room = base + (b < extra ? 1 : 0);
        sp = 0;
        sy = 0;
        size = 0;
        if (b >= bins) room = Number.POSITIVE_INFINITY;
      }
    }
  }
  if (size > 0) ece += (size / n) * Math.abs(sp / size - sy / size);
  return ece;
}

/** Applies a calibration (numpy.interp semantics: linear between knots, clamped outside). */
export function calibrate(cal: Calibration, p: number): number {
  const { x, y } = cal;
  if (x.length === 0) return p;
  if (p <= (x[0] as number)) return y[0] as number;
  if (p >= (x[x.length - 1] as number)) return y[y.length - 1] as number;
  let lo = 0;
  let hi = x.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if ((x[mid] as number) <= p) lo = mid;
    else hi = mid;
  }
  const x0 = x[lo] as number;
  const x1 = x[hi] as number;
  const y0 = y[lo] as number;
  return x1 === x0 ? y0 : y0 + ((p - x0) * ((y[hi] as number) - y0)) / (x1 - x0);
}

/** Fits the calibration on labelled reference scores, or returns null when raw scores calibrate better. */
export function chooseCalibration(scores: readonly number[], labels: readonly number[]): Calibration | null {
  const cal = fitIsotonic(scores, labels);
  const calibrated = scores.map((s) => calibrate(cal, s));
  return expectedCalibrationError(calibrated, labels) < expectedCalibrationError(scores, labels) ? cal : null;
}

/** `chooseCalibration` on SQL-reduced score groups. */
export function chooseCalibrationGroups(groups: readonly ScoreGroup[]): Calibration | null {
  if (groups.length === 0) return null;
  const cal = fitIsotonicGroups(groups);
  return expectedCalibrationErrorGroups(groups, cal) < expectedCalibrationErrorGroups(groups) ? cal : null;
}

/** Expected confusion-matrix sums of a window: Σp over predicted positives and negatives, and counts. */
export interface CbpeSums {
  /** Σ p over rows predicted positive. */
  posP: number;
  posN: number;
  /** Σ p over rows predicted negative. */
  negP: number;
  negN: number;
}

/** Estimated metrics from calibrated probabilities of the positive class. */
export interface CbpeEstimate {
  accuracy: number;
  precision: number | null;
  recall: number | null;
  f1: number | null;
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}

/** TP = Σ_{ŷ=1} p, FP = Σ_{ŷ=1} (1−p), FN = Σ_{ŷ=0} p, TN = Σ_{ŷ=0} (1−p). */
export function cbpeEstimate(s: CbpeSums): CbpeEstimate {
  const tp = s.posP;
  const fp = s.posN - s.posP;
  const fn = s.negP;
  const tn = s.negN - s.negP;
  const n = s.posN + s.negN;
  return {
    accuracy: n > 0 ? (tp + tn) / n : Number.NaN,
    precision: tp + fp > 0 ? tp / (tp + fp) : null,
    recall: tp + fn > 0 ? tp / (tp + fn) : null,
    f1: tp + 0.5 * (fp + fn) > 0 ? tp / (tp + 0.5 * (fp + fn)) : null,
    tp,
    fp,
    fn,
    tn,
  };
}

/** CBPE on raw rows: calibrated probability of the positive class and the predicted class. */
export function cbpeFromRows(
  pPositive: readonly number[],
  predictedPositive: readonly boolean[],
  cal: Calibration | null,
): CbpeEstimate {
  const s: CbpeSums = { posP: 0, posN: 0, negP: 0, negN: 0 };
  pPositive.forEach((raw, i) => {
    const p = cal ? calibrate(cal, raw) : raw;
    if (predictedPositive[i]) {
      s.posP += p;
      s.posN += 1;
    } else {
      s.negP += p;
      s.negN += 1;
    }
  });
  return cbpeEstimate(s);
}

/**
 * Σ calibrated(p) over one SQL bucket between knots k−1 and k, from its count and Σp: the map is
 * linear inside a bucket, so the sum is exact (clamped buckets are constant).
 */
export function calibratedSum(cal: Calibration | null, bucket: number, count: number, sumP: number): number {
  if (!cal || cal.x.length === 0) return sumP;
  const { x, y } = cal;
  if (bucket <= 0) return count * (y[0] as number);
  if (bucket >= x.length) return count * (y[y.length - 1] as number);
  const x0 = x[bucket - 1] as number;
  const x1 = x[bucket] as number;
  const y0 = y[bucket - 1] as number;
  const slope = x1 === x0 ? 0 : ((y[bucket] as number) - y0) / (x1 - x0);
  return count * (y0 - x0 * slope) + slope * sumP;
}
