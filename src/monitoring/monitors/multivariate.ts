/**
 * Multivariate and embedding drift over a window: every derived score column of the reference's
 * multivariate profile judged against its learned band, from the window's rolled-up counts and
 * sums. Pure: the scheduled run hands it the profile and the window's columns.
 */
import type { Finding } from "../model.js";
import { derivedColumns, type MultivariateProfile } from "../multivariate-profile.js";
import { errorShares } from "../stats/pca.js";
import {
  judgeScore,
  RECONSTRUCTION_COLUMN,
  type ScoreJudgement,
  scoreFinding,
} from "./multivariate-rules.js";

/** A rolled-up score column of the window (a rollup NumericAgg fits). */
export interface ScoreColumn {
  n: number;
  sum: number;
}

/** What one evaluation found. */
export interface MultivariateResult {
  judgements: ScoreJudgement[];
  findings: Finding[];
}

/**
 * Judges each derived column. `residualMeanSq` (the window's mean squared standardised residual
 * per PCA column, in the PCA's column order) lets the reconstruction finding name the features
 * the error grew in; without it the finding names none.
 */
export function evaluateMultivariate(
  profile: MultivariateProfile,
  window: Readonly<Record<string, ScoreColumn | undefined>>,
  residualMeanSq?: readonly number[],
): MultivariateResult {
  const judgements = derivedColumns(profile).map((column) =>
    judgeScore(column, profile.bands[column] ?? null, window[column] ?? { n: 0, sum: 0 }),
  );
  const findings = judgements
    .filter((j) => j.drifted)
    .map((j) =>
      scoreFinding(
        j,
        j.column === RECONSTRUCTION_COLUMN && profile.pca && residualMeanSq
          ? errorShares(profile.pca, residualMeanSq)
          : [],
      ),
    );
  return { judgements, findings };
}
