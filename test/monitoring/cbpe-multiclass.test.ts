/**
 * Multiclass CBPE: first the method against an independent NumPy/SciPy write-out of NannyML's
 * (fixtures/cbpe_multiclass.py), then "a multiclass model whose labels arrive late" as a seeded
 * simulation (helpers/multiclass-sim.ts): a 3-class model whose probabilities are over-confident,
 * a reference of 10 labelled chunks of 2,000 rows, and analysis windows of 2,000 rows whose labels
 * are withheld; a drop is "shifted class overlap" (pull 0.35 towards the centre).
 */
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import {
  accuracyFromConfidence,
  confidenceAccuracyCalibration,
  fitMulticlassCalibration,
  fitMulticlassCalibrationCells,
  learnedBand,
  mergeMulticlassCells,
  multiclassCbpe,
  multiclassCbpeFromCells,
  multiclassCells,
  multiclassRealised,
} from "../../src/monitoring/stats/index.js";
import { seeded } from "../helpers/monitoring.js";
import { SIM_CLASSES, sampleMulticlass } from "../helpers/multiclass-sim.js";

const fx = JSON.parse(readFileSync(new URL("./fixtures/cbpe-multiclass.json", import.meta.url), "utf8"));

function close(actual: number, expected: number, rel: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(expected)));
}

describe("multiclass CBPE against NannyML's method (NumPy/SciPy reference)", () => {
  // Tolerance: 1e-10 (sums of 800 probabilities in another order).
  it("per-class one-vs-rest calibration, normalised rows, expected confusion entries, accuracy and macro F1", () => {
    const cals = fitMulticlassCalibration(fx.ref_probs, fx.ref_labels, fx.classes);
    expect(cals.map((c) => c !== null)).toEqual(fx.calibrated);
    const est = multiclassCbpe(fx.cur_probs, fx.cur_pred, cals);
    for (const [k, v] of est.tp.entries()) close(v, fx.tp[k], 1e-10);
    for (const [k, v] of est.fp.entries()) close(v, fx.fp[k], 1e-10);
    for (const [k, v] of est.fn.entries()) close(v, fx.fn[k], 1e-10);
    close(est.accuracy, fx.accuracy, 1e-10);
    close(est.macroF1, fx.macro_f1, 1e-10);
  });

  it("from rollup-style cells: per-class bins of p_k, calibrated mass rescaled to the row count", () => {
    const cals = fitMulticlassCalibration(fx.ref_probs, fx.ref_labels, fx.classes);
    // Two halves reduced apart and merged, as rollup buckets are.
    const half = fx.cur_probs.length / 2;
    const cells = mergeMulticlassCells(
      multiclassCells(fx.cur_probs.slice(0, half), fx.cur_pred.slice(0, half)),
      multiclassCells(fx.cur_probs.slice(half), fx.cur_pred.slice(half)),
    );
    const est = multiclassCbpeFromCells(cells, cals);
    for (const [k, v] of est.tp.entries()) close(v, fx.cells.tp[k], 1e-10);
    for (const [k, v] of est.fp.entries()) close(v, fx.cells.fp[k], 1e-10);
    for (const [k, v] of est.fn.entries()) close(v, fx.cells.fn[k], 1e-10);
    close(est.accuracy, fx.cells.accuracy, 1e-10);
    close(est.macroF1, fx.cells.macro_f1, 1e-10);
  });

  it("the confidence-only fallback: mean calibrated P(correct | confidence of the predicted class)", () => {
    const conf = (rows: number[][]) => rows.map((p) => Math.max(...p));
    const correct = fx.ref_probs.map(
      (p: number[], i: number) => p.indexOf(Math.max(...p)) === fx.ref_labels[i],
    );
    const cal = confidenceAccuracyCalibration(conf(fx.ref_probs), correct);
    expect(cal !== null).toBe(fx.fallback_calibrated);
    close(accuracyFromConfidence(conf(fx.cur_probs), cal), fx.fallback_accuracy, 1e-10);
  });
});

const K = SIM_CLASSES;
const sample = sampleMulticlass;

const SEEDS = 50;
const CHUNK = 2000;
const CHUNKS = 10;
const PULL = 0.35;

interface SeedResult {
  nullErr: { acc: number; f1: number; fallback: number };
  dropErr: { acc: number; f1: number };
  nullAlarm: boolean;
  dropAlarm: boolean;
  refAcc: number;
  dropAcc: number;
  /** The aggregate (rollup-style) estimate: against realised, and against the per-row method. */
  cells: { err: number; gap: number; nullAlarm: boolean; dropAlarm: boolean };
}

function runSeed(seed: number): SeedResult {
  const rand = seeded(seed);
  const ref = sample(rand, CHUNK * CHUNKS, 0);
  const cals = fitMulticlassCalibration(ref.probs, ref.labels, K);
  const conf = (rows: number[][]) => rows.map((p) => Math.max(...p));
  const fallbackCal = confidenceAccuracyCalibration(
    conf(ref.probs),
    ref.predicted.map((p, i) => p === ref.labels[i]),
  );
  // The band: the reference chunks' estimates, mean ± 3σ (as the reference profile learns it).
  const chunkEst = Array.from({ length: CHUNKS }, (_, c) =>
    multiclassCbpe(
      ref.probs.slice(c * CHUNK, (c + 1) * CHUNK),
      ref.predicted.slice(c * CHUNK, (c + 1) * CHUNK),
      cals,
    ),
  );
  const accBand = learnedBand(chunkEst.map((e) => e.accuracy));
  const f1Band = learnedBand(chunkEst.map((e) => e.macroF1));
  if (!accBand || !f1Band) throw new Error("no band");
  const alarm = (e: { accuracy: number; macroF1: number }) =>
    e.accuracy < accBand.lower || e.macroF1 < f1Band.lower;
  const nul = sample(rand, CHUNK, 0);
  const nulEst = multiclassCbpe(nul.probs, nul.predicted, cals);
  const nulTrue = multiclassRealised(nul.predicted, nul.labels, K);
  const drop = sample(rand, CHUNK, PULL);
  const dropEst = multiclassCbpe(drop.probs, drop.predicted, cals);
  const dropTrue = multiclassRealised(drop.predicted, drop.labels, K);
  // The same from rollup-style cells: the reference calibrated from its labelled cells (as the
  // late-label path would keep them), each chunk and window reduced to cells, chunk 0 built by
  // merging two halves as rollup buckets merge.
  const chunkCells = Array.from({ length: CHUNKS }, (_, c) => {
    const lo = c * CHUNK;
    const half = lo + CHUNK / 2;
    return mergeMulticlassCells(
      multiclassCells(ref.probs.slice(lo, half), ref.predicted.slice(lo, half), ref.labels.slice(lo, half)),
      multiclassCells(
        ref.probs.slice(half, lo + CHUNK),
        ref.predicted.slice(half, lo + CHUNK),
        ref.labels.slice(half, lo + CHUNK),
      ),
    );
  });
  const cellCals = fitMulticlassCalibrationCells(mergeMulticlassCells(...chunkCells), K);
  const cellChunkEst = chunkCells.map((c) => multiclassCbpeFromCells(c, cellCals));
  const cAcc = learnedBand(cellChunkEst.map((e) => e.accuracy));
  const cF1 = learnedBand(cellChunkEst.map((e) => e.macroF1));
  if (!cAcc || !cF1) throw new Error("no band");
  const cellAlarm = (e: { accuracy: number; macroF1: number }) =>
    e.accuracy < cAcc.lower || e.macroF1 < cF1.lower;
  const nulCells = multiclassCbpeFromCells(multiclassCells(nul.probs, nul.predicted), cellCals);
  const dropCells = multiclassCbpeFromCells(multiclassCells(drop.probs, drop.predicted), cellCals);
  const cells = {
    err: Math.max(
      Math.abs(nulCells.accuracy - nulTrue.accuracy),
      Math.abs(nulCells.macroF1 - nulTrue.macroF1),
      Math.abs(dropCells.accuracy - dropTrue.accuracy),
      Math.abs(dropCells.macroF1 - dropTrue.macroF1),
    ),
    gap: Math.max(
      Math.abs(nulCells.accuracy - nulEst.accuracy),
      Math.abs(nulCells.macroF1 - nulEst.macroF1),
      Math.abs(dropCells.accuracy - dropEst.accuracy),
      Math.abs(dropCells.macroF1 - dropEst.macroF1),
    ),
    nullAlarm: cellAlarm(nulCells),
    dropAlarm: cellAlarm(dropCells),
  };
  return {
    cells,
    nullErr: {
      acc: Math.abs(nulEst.accuracy - nulTrue.accuracy),
      f1: Math.abs(nulEst.macroF1 - nulTrue.macroF1),
      fallback: Math.abs(accuracyFromConfidence(conf(nul.probs), fallbackCal) - nulTrue.accuracy),
    },
    dropErr: {
      acc: Math.abs(dropEst.accuracy - dropTrue.accuracy),
      f1: Math.abs(dropEst.macroF1 - dropTrue.macroF1),
    },
    nullAlarm: alarm(nulEst),
    dropAlarm: alarm(dropEst),
    refAcc: accBand.mean,
    dropAcc: dropTrue.accuracy,
  };
}

describe("a multiclass model whose labels arrive late (seeded simulation, 50 seeds, n = 2,000)", () => {
  let results: SeedResult[] = [];
  let figures = {
    maxAccErr: 0,
    maxF1Err: 0,
    maxFallbackErr: 0,
    falseAlarms: 0,
    detected: 0,
    refAcc: 0,
    dropAcc: 0,
    cellsErr: 0,
    cellsGap: 0,
    cellsFalseAlarms: 0,
    cellsDetected: 0,
    seconds: 0,
  };
  beforeAll(() => {
    const started = performance.now();
    results = Array.from({ length: SEEDS }, (_, s) => runSeed(1000 + s));
    const max = (f: (r: SeedResult) => number) => Math.max(...results.map(f));
    figures = {
      maxAccErr: max((r) => Math.max(r.nullErr.acc, r.dropErr.acc)),
      maxF1Err: max((r) => Math.max(r.nullErr.f1, r.dropErr.f1)),
      maxFallbackErr: max((r) => r.nullErr.fallback),
      falseAlarms: results.filter((r) => r.nullAlarm).length,
      detected: results.filter((r) => r.dropAlarm).length,
      refAcc: results.reduce((s, r) => s + r.refAcc, 0) / SEEDS,
      dropAcc: results.reduce((s, r) => s + r.dropAcc, 0) / SEEDS,
      cellsErr: max((r) => r.cells.err),
      cellsGap: max((r) => r.cells.gap),
      cellsFalseAlarms: results.filter((r) => r.cells.nullAlarm).length,
      cellsDetected: results.filter((r) => r.cells.dropAlarm).length,
      seconds: (performance.now() - started) / 1000,
    };
    console.info("multiclass CBPE simulation", JSON.stringify(figures));
  });

  it("with labels withheld the estimated accuracy and macro F1 track the realised ones: |est − truth| ≤ 0.03 in every seed", () => {
    expect(figures.maxAccErr).toBeLessThanOrEqual(0.03);
    expect(figures.maxF1Err).toBeLessThanOrEqual(0.03);
    // The confidence-only fallback estimates accuracy as closely.
    expect(figures.maxFallbackErr).toBeLessThanOrEqual(0.03);
  });

  it("shifted class overlap (a real drop) is flagged by the estimate alone in at least 48 of 50 seeds", () => {
    expect(figures.dropAcc).toBeLessThan(figures.refAcc - 0.05);
    expect(figures.detected).toBeGreaterThanOrEqual(48);
  });

  it("null windows stay silent: at most 2 false alarms in 50 seeds (the first seed silent)", () => {
    expect(results[0]?.nullAlarm).toBe(false);
    expect(figures.falseAlarms).toBeLessThanOrEqual(2);
  });

  it("from rollup-style cells (window-level normalisation) the estimate stays within 0.01 of the per-row method and 0.03 of the truth, with the same alarms", () => {
    expect(figures.cellsGap).toBeLessThanOrEqual(0.01);
    expect(figures.cellsErr).toBeLessThanOrEqual(0.03);
    expect(figures.cellsDetected).toBeGreaterThanOrEqual(48);
    expect(figures.cellsFalseAlarms).toBeLessThanOrEqual(2);
  });
});
