/**
 * The retraining thread's pictures: champion against challenger on each evaluation metric (the
 * approval card), and during the canary the live metric of both arms with its 95 % confidence
 * interval (the comparison).
 */
import { formatNumber } from "./render.js";
import type { BarChart } from "./spec.js";

/** z for a two-sided 95 % interval. */
const Z95 = 1.959963984540054;

/** One metric of the offline evaluation, as the approval card judges it. */
export interface EvaluationCheck {
  metric: string;
  champion: number;
  challenger: number;
  passes: boolean;
}

/** Champion against challenger on each evaluation metric. */
export function evaluationChart(input: {
  model: string;
  championVersion: string;
  challengerVersion: string;
  checks: readonly EvaluationCheck[];
}): BarChart {
  const checks = input.checks.filter((c) => Number.isFinite(c.champion) && Number.isFinite(c.challenger));
  const words = checks
    .map(
      (c) =>
        `${c.metric} ${formatNumber(c.champion)} → ${formatNumber(c.challenger)}${c.passes ? "" : " (fails its rule)"}`,
    )
    .join(", ");
  // Metrics of different scales (an F1 of 0.8 beside a latency of 40 ms) are drawn relative to the
  // champion (champion = 1); the alt text keeps the real values.
  const scales = checks.map((c) => Math.max(Math.abs(c.champion), Math.abs(c.challenger)));
  const relative = scales.length > 1 && Math.max(...scales) > 10 * Math.max(Math.min(...scales), 1e-12);
  const value = (c: EvaluationCheck, v: number) =>
    relative ? (c.champion !== 0 ? v / c.champion : Number.NaN) : v;
  return {
    kind: "bars",
    title: `${input.model}: champion ${input.championVersion} against challenger ${input.challengerVersion}`,
    subtitle: `Offline evaluation on the same data; ${checks.filter((c) => c.passes).length} of ${checks.length} rules pass${relative ? "; values relative to the champion" : ""}`,
    alt: `Champion ${input.championVersion} against challenger ${input.challengerVersion} of ${input.model}: ${words}.`,
    x: { label: "evaluation metric" },
    y: { label: relative ? "relative to the champion (champion = 1)" : "value" },
    categories: checks.map((c) => c.metric),
    series: [
      { name: `champion ${input.championVersion}`, values: checks.map((c) => value(c, c.champion)) },
      { name: `challenger ${input.challengerVersion}`, values: checks.map((c) => value(c, c.challenger)) },
    ],
  };
}

/** What the canary measured on one arm. */
export interface LiveArm {
  version: string;
  n: number;
  confidence: { n: number; mean: number; variance: number };
  lowConfidence: number;
  labelled: number;
  errors: number;
  absError: { n: number; mean: number; variance: number } | null;
}

/** A proportion's 95 % Wilson interval (stays inside [0, 1], sane at small n). */
export function wilson(successes: number, n: number): [number, number] {
  if (n <= 0) return [0, 1];
  const p = successes / n;
  const z2 = Z95 * Z95;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (Z95 * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / (1 + z2 / n);
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/** A mean's 95 % normal interval from its sample variance. */
export function meanInterval(s: { n: number; mean: number; variance: number }): [number, number] {
  if (s.n < 2) return [s.mean, s.mean];
  const half = Z95 * Math.sqrt(s.variance / s.n);
  return [s.mean - half, s.mean + half];
}

/** The live metrics of both arms during the canary, each with its 95 % interval. */
export function canaryChart(input: {
  model: string;
  champion: LiveArm;
  challenger: LiveArm;
  summary: string;
}): BarChart {
  const metrics: { name: string; of: (a: LiveArm) => { v: number; ci: [number, number] } | null }[] = [
    {
      name: "error rate",
      of: (a) => (a.labelled > 0 ? { v: a.errors / a.labelled, ci: wilson(a.errors, a.labelled) } : null),
    },
    {
      name: "mean confidence",
      of: (a) => (a.confidence.n > 0 ? { v: a.confidence.mean, ci: meanInterval(a.confidence) } : null),
    },
    {
      name: "low-confidence share",
      of: (a) =>
        a.confidence.n > 0
          ? { v: a.lowConfidence / a.confidence.n, ci: wilson(a.lowConfidence, a.confidence.n) }
          : null,
    },
  ];
  const shown = metrics.filter((m) => m.of(input.champion) || m.of(input.challenger));
  const arm = (a: LiveArm) => {
    const values = shown.map((m) => m.of(a));
    return {
      values: values.map((x) => x?.v ?? Number.NaN),
      lo: values.map((x) => x?.ci[0] ?? Number.NaN),
      hi: values.map((x) => x?.ci[1] ?? Number.NaN),
    };
  };
  const words = (a: LiveArm) =>
    shown
      .map((m) => {
        const x = m.of(a);
        return x
          ? `${m.name} ${formatNumber(x.v)} (95% CI ${formatNumber(x.ci[0])} to ${formatNumber(x.ci[1])})`
          : null;
      })
      .filter(Boolean)
      .join(", ");
  return {
    kind: "bars",
    title: `${input.model} canary: ${input.champion.version} against ${input.challenger.version}`,
    subtitle: `${input.champion.n} and ${input.challenger.n} predictions; bars show 95% confidence intervals`,
    alt: `Canary of ${input.model}. Champion ${input.champion.version}: ${words(input.champion) || "no data"}. Challenger ${input.challenger.version}: ${words(input.challenger) || "no data"}. ${input.summary}`,
    x: { label: "live metric" },
    y: { label: "value" },
    categories: shown.map((m) => m.name),
    series: [
      { name: `champion ${input.champion.version}`, ...arm(input.champion) },
      { name: `challenger ${input.challenger.version}`, ...arm(input.challenger) },
    ],
  };
}
