/** Retraining: the rules a candidate is judged by, the approval rule, and the candidate report. */
import { z } from "zod";
import type { RetrainingConfig } from "../config/index.js";
import type { adapterCalls, candidates, retrainRequests } from "../db/schema/index.js";

/** A retrain request as stored. */
export type RetrainRequest = typeof retrainRequests.$inferSelect;
/** A candidate as stored. */
export type Candidate = typeof candidates.$inferSelect;
/** A recorded adapter call. */
export type AdapterCall = typeof adapterCalls.$inferSelect;
/** Where a candidate is in its life. */
export type CandidateState = Candidate["state"];

/** States in which traffic is (or is about to be) split between champion and challenger. */
export const CANARY_STATES = ["canary_starting", "canary", "promoting", "rolling_back"] as const;

/** `RTR-<n>`: how people refer to a retrain request. */
export function formatRequestRef(id: number): string {
  return `RTR-${id}`;
}

/** One metric of the card: champion, challenger, the delta and whether it clears its rule. */
export interface MetricCheck {
  metric: string;
  role: "primary" | "guardrail";
  direction: "higher" | "lower";
  champion: number;
  challenger: number;
  /** challenger − champion. */
  delta: number;
  passes: boolean;
  /** The rule in words, e.g. "gain ≥ 0.01" or "no worse than 10 (non-inferiority)". */
  rule: string;
}

/** The rules and their outcome, frozen on the candidate when it is reported. */
export interface RuleSnapshot {
  checks: MetricCheck[];
  passes: boolean;
  verdict: string;
  canary: { share: number; minSamplePerArm: number; alpha: number };
}

/** How much better the challenger is on `metric`, in its direction (positive = better). */
function improvement(direction: "higher" | "lower", champion: number, challenger: number): number {
  return direction === "higher" ? challenger - champion : champion - challenger;
}

/**
 * Judges a challenger against the champion on the same evaluation set: the primary metric must
 * improve by at least `min_gain`; each guard-rail may be worse by at most its margin
 * (non-inferiority). Metrics must be present on both sides (the report validation ensures it).
 */
export function evaluateCandidate(
  rules: RetrainingConfig,
  challenger: Record<string, number>,
  champion: Record<string, number>,
): RuleSnapshot {
  const checks: MetricCheck[] = [];
  const p = rules.primary_metric;
  const pc = champion[p.name] ?? Number.NaN;
  const px = challenger[p.name] ?? Number.NaN;
  checks.push({
    metric: p.name,
    role: "primary",
    direction: p.direction,
    champion: pc,
    challenger: px,
    delta: px - pc,
    passes: improvement(p.direction, pc, px) >= p.min_gain - 1e-12,
    rule: `${p.direction === "higher" ? "gain" : "reduction"} ≥ ${p.min_gain}`,
  });
  for (const g of rules.guardrails) {
    const c = champion[g.name] ?? Number.NaN;
    const x = challenger[g.name] ?? Number.NaN;
    checks.push({
      metric: g.name,
      role: "guardrail",
      direction: g.direction,
      champion: c,
      challenger: x,
      delta: x - c,
      passes: improvement(g.direction, c, x) >= -g.margin - 1e-12,
      rule: `no worse than ${g.margin} (non-inferiority, ${g.direction} is better)`,
    });
  }
  const failed = checks.filter((c) => !c.passes);
  const passes = failed.length === 0;
  return {
    checks,
    passes,
    verdict: passes
      ? `Clears the rules: ${p.name} improves by at least ${p.min_gain} and no guard-rail is worse than its margin.`
      : `Does not clear the rules: ${failed.map((c) => c.metric).join(", ")} ${failed.length === 1 ? "fails its rule" : "fail their rules"}.`,
    canary: {
      share: rules.canary.share,
      minSamplePerArm: rules.canary.min_sample_per_arm,
      alpha: rules.canary.alpha,
    },
  };
}

/** Where a candidate's approvals stand. */
export interface ApprovalStatus {
  approvers: string[];
  rejectedBy: string | null;
  satisfied: boolean;
  /** What is still missing, in words, when not satisfied. */
  missing: string | null;
}

/**
 * N distinct approvers are needed, and the person who asked for the retrain may approve but never
 * alone: at least one approver must be someone else.
 */
export function approvalStatus(
  decisions: readonly { userId: string; decision: "approve" | "reject" }[],
  required: number,
  requester: string | null,
): ApprovalStatus {
  const approvers = [...new Set(decisions.filter((d) => d.decision === "approve").map((d) => d.userId))];
  const rejectedBy = decisions.find((d) => d.decision === "reject")?.userId ?? null;
  const others = approvers.filter((a) => a !== requester);
  const need = Math.max(0, required - approvers.length);
  let missing: string | null = null;
  if (need > 0) missing = `${need} more approval${need === 1 ? "" : "s"}`;
  if (others.length === 0)
    missing = requester
      ? `an approval from someone other than the requester <@${requester}>${need > 1 ? ` (${need} in all)` : ""}`
      : (missing ?? "an approval");
  return { approvers, rejectedBy, satisfied: missing === null, missing };
}

const VERSION = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/;
const metricsRecord = z
  .record(
    z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,62}$/, "expected metric names like f1"),
    z.number().refine(Number.isFinite, "expected a finite number"),
  )
  .refine((m) => Object.keys(m).length <= 100, "at most 100 metrics");

/** The body of `POST /api/v1/models/:model/candidates`. */
export const candidateReportSchema = z.strictObject({
  version: z.string().regex(VERSION, "expected a version like v3 or 2026.11.1"),
  artifact_uri: z.string().min(1).max(2000),
  metrics: metricsRecord.describe("The challenger's metrics on the evaluation set"),
  champion_metrics: metricsRecord.describe("The champion's metrics on the same evaluation set"),
  champion_version: z.string().regex(VERSION, "expected a version like v3").optional(),
  data_window: z
    .strictObject({
      from: z.iso.datetime({ offset: true }),
      to: z.iso.datetime({ offset: true }),
    })
    .refine((w) => Date.parse(w.from) < Date.parse(w.to), {
      message: "from must be before to",
      path: ["to"],
    }),
  pipeline_run_url: z.url({ protocol: /^https?$/ }),
  business_metrics: metricsRecord.optional(),
  retrain_request_id: z.number().int().positive().optional(),
});

/** A validated candidate report. */
export type CandidateReport = z.output<typeof candidateReportSchema>;

/** The metrics the rules need, which a report must carry for both versions. */
export function requiredMetrics(rules: RetrainingConfig): string[] {
  return [rules.primary_metric.name, ...rules.guardrails.map((g) => g.name)];
}
