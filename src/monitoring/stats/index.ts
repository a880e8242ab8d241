export { type Band, learnedBand } from "./bands.js";
export {
  type Calibration,
  type CbpeEstimate,
  type CbpeSums,
  calibrate,
  calibratedSum,
  cbpeEstimate,
  cbpeFromRows,
  chooseCalibration,
  chooseCalibrationGroups,
  expectedCalibrationError,
  expectedCalibrationErrorGroups,
  fitIsotonic,
  fitIsotonicGroups,
  type ScoreGroup,
} from "./cbpe.js";
export {
  accuracyFromConfidence,
  calibrateRow,
  confidenceAccuracyCalibration,
  estimatedAccuracy,
  fitMulticlassCalibration,
  type MulticlassCalibration,
  type MulticlassEstimate,
  multiclassCbpe,
  multiclassRealised,
} from "./cbpe-multiclass.js";
export {
  type ClassBinCell,
  type ClassCalibration,
  classCellsReference,
  estimateFromClassCells,
  fitClassCalibration,
  fitMulticlassCalibrationCells,
  mergeMulticlassCells,
  multiclassCbpeFromCells,
  multiclassCells,
  type NamedClassCell,
  PROBABILITY_BINS,
} from "./cbpe-multiclass-cells.js";
export {
  type ClassificationMetrics,
  metricsFromConfusion,
  rocAuc,
  rocAucFromGroups,
} from "./classification.js";
export { hellinger, jensenShannon, normedWasserstein, PSI_EPSILON, psi, wasserstein } from "./distances.js";
export { kolmogorovSf, smirnovSf } from "./kolmogorov.js";
export { ksBinned, ksPValue, ksTwoSample, type TestResult } from "./ks.js";
export {
  addMoments,
  emptyMoments,
  type RegressionMetrics,
  type RegressionMoments,
  regressionMetrics,
} from "./regression.js";
export { chiSquareSf, gammaQ, logGamma, normalTwoSidedP } from "./special.js";
export { chiSquareTest, twoProportionZTest } from "./tests.js";
