/**
 * Champion against challenger on live traffic. With labels on both arms the error rates are
 * compared with a two-proportion z-test (classification) or the absolute errors with Welch's
 * t-test (regression); without enough labels the bot falls back to proxies: mean confidence
 * (Welch) and the share of low-confidence predictions (z-test), which move when a model meets
 * inputs it handles worse. No verdict before `minSamplePerArm` on each arm.
 */
import { type ArmSummary, twoProportionZTest, welchTTest } from "./ab-stats.js";

/** What SQL reduced one arm to. */
export interface ArmStats {
  version: string;
  n: number;
  /** Predictions with a confidence, with their mean and sample variance. */
  confidence: ArmSummary;
  lowConfidence: number;
  labelled: number;
  errors: number;
  /** Regression: absolute error of labelled rows. */
  absError: ArmSummary | null;
}

/** One test in the comparison. */
export interface ArmTest {
  name: string;
  method: "two_proportion_z" | "welch_t";
  champion: number;
  challenger: number;
  statistic: number;
  pValue: number;
  significant: boolean;
}

/** The outcome of a comparison. */
export type CanaryVerdict =
  | "insufficient_sample"
  | "challenger_better"
  | "challenger_worse"
  | "no_difference";

/** A comparison of the two arms, stored on the candidate and shown in the thread. */
export interface CanaryComparison {
  basis: "labels" | "proxies" | "none";
  champion: ArmStats;
  challenger: ArmStats;
  minSamplePerArm: number;
  alpha: number;
  enoughSample: boolean;
  tests: ArmTest[];
  verdict: CanaryVerdict;
  summary: string;
}

function emptyArm(version: string): ArmStats {
  return {
    version,
    n: 0,
    confidence: { n: 0, mean: 0, variance: 0 },
    lowConfidence: 0,
    labelled: 0,
    errors: 0,
    absError: null,
  };
}

/** Compares the arms; `regression` picks absolute error instead of error rate. */
export function compareArms(
  championArm: ArmStats | undefined,
  challengerArm: ArmStats | undefined,
  opts: {
    championVersion: string;
    challengerVersion: string;
    minSamplePerArm: number;
    alpha: number;
    regression: boolean;
  },
): CanaryComparison {
  const champion = championArm ?? emptyArm(opts.championVersion);
  const challenger = challengerArm ?? emptyArm(opts.challengerVersion);
  const { minSamplePerArm: min, alpha } = opts;
  const tests: ArmTest[] = [];
  const labelled = champion.labelled >= min && challenger.labelled >= min;
  const sampled = champion.n >= min && challenger.n >= min;
  const basis = labelled ? "labels" : sampled ? "proxies" : "none";

  if (labelled && !opts.regression) {
    const r = twoProportionZTest(challenger.errors, challenger.labelled, champion.errors, champion.labelled);
    tests.push({
      name: "error rate",
      method: "two_proportion_z",
      champion: champion.errors / champion.labelled,
      challenger: challenger.errors / challenger.labelled,
      statistic: r.statistic,
      pValue: r.pValue,
      significant: r.pValue < alpha,
    });
  }
  if (labelled && opts.regression && champion.absError && challenger.absError) {
    const r = welchTTest(challenger.absError, champion.absError);
    tests.push({
      name: "absolute error",
      method: "welch_t",
      champion: champion.absError.mean,
      challenger: challenger.absError.mean,
      statistic: r.statistic,
      pValue: r.pValue,
      significant: r.pValue < alpha,
    });
  }
  if (sampled && champion.confidence.n >= 2 && challenger.confidence.n >= 2) {
    const r = welchTTest(challenger.confidence, champion.confidence);
    tests.push({
      name: "mean confidence",
      method: "welch_t",
      champion: champion.confidence.mean,
      challenger: challenger.confidence.mean,
      statistic: r.statistic,
      pValue: r.pValue,
      significant: r.pValue < alpha,
    });
    const z = twoProportionZTest(
      challenger.lowConfidence,
      challenger.confidence.n,
      champion.lowConfidence,
      champion.confidence.n,
    );
    tests.push({
      name: "low-confidence share",
      method: "two_proportion_z",
      champion: champion.lowConfidence / champion.confidence.n,
      challenger: challenger.lowConfidence / challenger.confidence.n,
      statistic: z.statistic,
      pValue: z.pValue,
      significant: z.pValue < alpha,
    });
  }

  let verdict: CanaryVerdict = "insufficient_sample";
  let summary = `Not enough traffic yet: ${challenger.n} predictions (${challenger.labelled} labelled) on ${challenger.version}, ${champion.n} (${champion.labelled}) on ${champion.version}; ${min} per arm needed.`;
  if (basis === "labels") {
    const t = tests[0] as ArmTest;
    verdict = !t.significant
      ? "no_difference"
      : t.challenger < t.champion
        ? "challenger_better"
        : "challenger_worse";
    summary =
      verdict === "no_difference"
        ? `No significant difference in ${t.name} (p = ${fmtP(t.pValue)} ≥ ${alpha}).`
        : `${challenger.version} has a significantly ${verdict === "challenger_better" ? "lower" : "higher"} ${t.name} (p = ${fmtP(t.pValue)} < ${alpha}).`;
  } else if (basis === "proxies") {
    const conf = tests.find((t) => t.name === "mean confidence");
    const low = tests.find((t) => t.name === "low-confidence share");
    const worse =
      (conf?.significant && conf.challenger < conf.champion) ||
      (low?.significant && low.challenger > low.champion);
    const better =
      !worse &&
      ((conf?.significant && conf.challenger > conf.champion) ||
        (low?.significant && low.challenger < low.champion));
    verdict = worse ? "challenger_worse" : better ? "challenger_better" : "no_difference";
    summary = `Labels are short (${challenger.labelled} and ${champion.labelled} of ${min} per arm), so confidence stands in for quality: ${
      verdict === "no_difference"
        ? "no significant difference"
        : `${challenger.version} looks ${verdict === "challenger_better" ? "more" : "less"} sure of itself`
    }.`;
  }
  return {
    basis,
    champion,
    challenger,
    minSamplePerArm: min,
    alpha,
    enoughSample: basis !== "none",
    tests,
    verdict,
    summary,
  };
}

/** A p-value for people: 3 significant digits, or "< 0.0001". */
export function fmtP(p: number): string {
  if (p < 0.0001) return "< 0.0001";
  return p.toPrecision(3);
}
