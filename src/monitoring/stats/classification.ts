/** Classification metrics from counts, so windows reduce to a confusion table in SQL. */

/** Realised metrics of a window (null where undefined, e.g. no positive predictions). */
export interface ClassificationMetrics {
  accuracy: number | null;
  precision: number | null;
  recall: number | null;
  f1: number | null;
  roc_auc: number | null;
}

const ratio = (a: number, b: number): number | null => (b > 0 ? a / b : null);

/**
 * Accuracy, precision, recall and F1 from (predicted, actual) counts. Binary tasks score the
 * `positive` class; multiclass tasks macro-average over every class seen.
 */
export function metricsFromConfusion(
  cells: readonly { predicted: string; actual: string; count: number }[],
  positive: string | null,
): Omit<ClassificationMetrics, "roc_auc"> {
  const n = cells.reduce((s, c) => s + c.count, 0);
  const correct = cells.filter((c) => c.predicted === c.actual).reduce((s, c) => s + c.count, 0);
  const classes =
    positive !== null ? [positive] : [...new Set(cells.flatMap((c) => [c.predicted, c.actual]))];
  const per = classes.map((k) => {
    const tp = cells.filter((c) => c.predicted === k && c.actual === k).reduce((s, c) => s + c.count, 0);
    const predicted = cells.filter((c) => c.predicted === k).reduce((s, c) => s + c.count, 0);
    const actual = cells.filter((c) => c.actual === k).reduce((s, c) => s + c.count, 0);
    const precision = ratio(tp, predicted);
    const recall = ratio(tp, actual);
    const f1 = ratio(2 * tp, predicted + actual);
    return { precision, recall, f1 };
  });
  const mean = (xs: (number | null)[]): number | null => {
    const ok = xs.filter((x): x is number => x !== null);
    return ok.length ? ok.reduce((s, x) => s + x, 0) / ok.length : null;
  };
  return {
    accuracy: ratio(correct, n),
    precision: mean(per.map((p) => p.precision)),
    recall: mean(per.map((p) => p.recall)),
    f1: mean(per.map((p) => p.f1)),
  };
}

/**
 * ROC AUC from per-score counts of positives and negatives (ties count half): the Mann-Whitney U
 * of the positives over n_pos · n_neg. `groups` need not be sorted.
 */
export function rocAucFromGroups(
  groups: readonly { score: number; pos: number; neg: number }[],
): number | null {
  const sorted = [...groups].sort((a, b) => a.score - b.score);
  let negBelow = 0;
  let u = 0;
  let nPos = 0;
  for (const g of sorted) {
    u += g.pos * (negBelow + g.neg / 2);
    negBelow += g.neg;
    nPos += g.pos;
  }
  return nPos > 0 && negBelow > 0 ? u / (nPos * negBelow) : null;
}

/** ROC AUC of raw scores and 0/1 labels. */
export function rocAuc(scores: readonly number[], labels: readonly (0 | 1)[]): number | null {
  const byScore = new Map<number, { score: number; pos: number; neg: number }>();
  scores.forEach((s, i) => {
    const g = byScore.get(s) ?? { score: s, pos: 0, neg: 0 };
    if (labels[i] === 1) g.pos++;
    else g.neg++;
    byScore.set(s, g);
  });
  return rocAucFromGroups([...byScore.values()]);
}
