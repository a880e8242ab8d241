/**
 * A multiclass model's class probabilities in a rollup, as cells that merge by addition: per
 * class k and 0.001-wide bin of the raw p_k (⌊p_k × 1000⌋, 0…1000), split by whether the row
 * predicted k, the rows, Σp_k, and of those rows how many are labelled and how many truly k.
 * Enough for multiclass CBPE (src/monitoring/stats/cbpe-multiclass-cells.ts): the reference's
 * one-vs-rest calibrations from the labelled counts, a window's estimate from rows and Σp_k.
 * Part of the rollup document (model.ts); depends on nothing else.
 */

/** Bins per unit of probability (as PROBABILITY_BINS of the estimator): bins 0…1000. */
export const CLASS_BINS = 1000;

/**
 * Most classes one rollup keeps (a vector holds at most as many, src/ingest/probabilities.ts):
 * class names come from the client, so a stream of ever new names must not grow a rollup without
 * bound. Classes past it in a bucket are not counted.
 */
export const MAX_CLASSES = 1000;

/** One cell: [rows, Σp_k, labelled rows, labelled rows whose label is k]. */
export type ClassCell = [number, number, number, number];

/** One class's cells: bin → cell, for rows that predicted the class and rows that did not. */
export interface ClassCellsAgg {
  predicted: Record<string, ClassCell>;
  other: Record<string, ClassCell>;
}

/** Every class's cells, by class name (as the keys of the rows' `probabilities`). */
export type ClassCells = Record<string, ClassCellsAgg>;

/** The bin of a probability (0…1000; 1 has a bin of its own, as in the estimator). */
export function classBin(p: number): number {
  return Math.min(CLASS_BINS, Math.max(0, Math.floor(p * CLASS_BINS)));
}

function cellOf(cells: ClassCells, cls: string, predicted: boolean, bin: number): ClassCell | null {
  let agg = cells[cls];
  if (!agg) {
    if (Object.keys(cells).length >= MAX_CLASSES) return null;
    agg = { predicted: {}, other: {} };
    cells[cls] = agg;
  }
  const side = predicted ? agg.predicted : agg.other;
  let cell = side[bin];
  if (!cell) {
    cell = [0, 0, 0, 0];
    side[bin] = cell;
  }
  return cell;
}

/** Drops a cell that holds nothing (a label taken out and put back), and its class when left empty. */
function dropIfEmpty(cells: ClassCells, cls: string, predicted: boolean, bin: number): void {
  const agg = cells[cls];
  if (!agg) return;
  const side = predicted ? agg.predicted : agg.other;
  const c = side[bin];
  if (c === undefined || c.some((v) => v !== 0)) return;
  delete side[bin];
  if (Object.keys(agg.predicted).length === 0 && Object.keys(agg.other).length === 0) delete cells[cls];
}

/** Adds one row's probability vector (with its label, when it has one). */
export function addProbabilities(
  cells: ClassCells,
  probabilities: Record<string, number>,
  prediction: string,
  label: string | null,
): void {
  for (const cls in probabilities) {
    const p = probabilities[cls] as number;
    const cell = cellOf(cells, cls, cls === prediction, classBin(p));
    if (!cell) continue;
    cell[0] += 1;
    cell[1] += p;
    if (label !== null) {
      cell[2] += 1;
      if (label === cls) cell[3] += 1;
    }
  }
}

/** Adds (count = 1) or takes out (count = −1) the label of a row already counted. */
export function addClassLabel(
  cells: ClassCells,
  probabilities: Record<string, number>,
  prediction: string,
  label: string,
  count = 1,
): void {
  for (const cls in probabilities) {
    const bin = classBin(probabilities[cls] as number);
    const cell = cellOf(cells, cls, cls === prediction, bin);
    if (!cell) continue;
    cell[2] += count;
    if (label === cls) cell[3] += count;
    dropIfEmpty(cells, cls, cls === prediction, bin);
  }
}

/** Adds `b` into `a`. */
export function mergeClassCells(a: ClassCells, b: ClassCells): void {
  for (const cls in b) {
    const from = b[cls] as ClassCellsAgg;
    for (const [predicted, side] of [
      [true, from.predicted],
      [false, from.other],
    ] as const)
      for (const bin in side) {
        const src = side[bin] as ClassCell;
        const cell = cellOf(a, cls, predicted, Number(bin));
        if (!cell) break;
        cell[0] += src[0];
        cell[1] += src[1];
        cell[2] += src[2];
        cell[3] += src[3];
        dropIfEmpty(a, cls, predicted, Number(bin));
      }
  }
}

/** Rows counted in the cells: each row sits in exactly one `predicted` cell (of its predicted class). */
export function classCellRows(cells: ClassCells | null | undefined): number {
  let n = 0;
  for (const agg of Object.values(cells ?? {})) for (const cell of Object.values(agg.predicted)) n += cell[0];
  return n;
}
