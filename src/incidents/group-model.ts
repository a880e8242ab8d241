import { createHash } from "node:crypto";
import type { GroupLabel } from "../config/index.js";
import type { AlertSignal } from "../shared/alert-signal.js";
import { SEVERITY_RANK } from "../shared/severity.js";
import { fingerprintOf } from "./alert-model.js";
import type { Alert } from "./model.js";

/**
 * The key of the incident a signal belongs to, from the labels of `alerting.group_by`
 * (Alertmanager's group_by: signals with equal values of those labels share one incident).
 *
 * Why these exceptions: with every label listed the key is the alert's own fingerprint, so an
 * installation that groups per finding keeps matching the incidents it opened before grouping
 * existed. Signals that are not the bot's own findings (Alertmanager, manual) were grouped by
 * whoever sent them, so they keep one incident per alert.
 */
export function groupKeyOf(
  signal: Pick<AlertSignal, "source" | "model" | "monitor" | "subject">,
  groupBy: readonly GroupLabel[],
): string {
  const labels: readonly GroupLabel[] = ["model", "monitor", "subject"];
  if (signal.source !== "monitor" || labels.every((l) => groupBy.includes(l))) return fingerprintOf(signal);
  const parts = labels.filter((l) => groupBy.includes(l)).map((l) => `${l}=${signal[l]}`);
  return createHash("sha256")
    .update(`group\u0000${parts.join("\u0000")}`)
    .digest("hex")
    .slice(0, 16);
}

/** How a member of an incident stands in it. */
export type MemberState = "firing" | "recovered";

/** A member of an incident with its alert (the numbers), as the card and the intake read it. */
export interface IncidentMember {
  alert: Alert;
  state: MemberState;
  joinedAt: Date;
  recoveredAt: Date | null;
  cleanRuns: number;
  flaps: number;
}

const P_VALUE_METHODS = new Set(["ks", "chi2", "ztest"]);

/**
 * How bad a member's numbers are, to rank the card's list: a distance over its threshold, or a
 * p-value's threshold over the p-value, times the feature's importance when the model has
 * importances (`rank_score`); members without both numbers rank by severity only.
 */
export function memberScore(metrics: Alert["metrics"]): number {
  const value = typeof metrics.value === "number" ? metrics.value : null;
  const threshold = typeof metrics.threshold === "number" ? metrics.threshold : null;
  if (value === null || threshold === null) return 0;
  // A drift finding of a model with feature importances carries importance × drift score.
  if (typeof metrics.rank_score === "number") return metrics.rank_score;
  // p-value tests (ks, chi2, ztest) drift below their threshold, distances at or above it.
  const isTest = typeof metrics.method === "string" && P_VALUE_METHODS.has(metrics.method);
  if (isTest) return threshold / Math.max(value, 1e-300);
  return threshold > 0 ? value / threshold : value;
}

/** The subject of the finding about the whole dataset (dataset drift), which sums up a drift run: it leads at its severity. */
export const WHOLE_DATASET = "dataset";

/**
 * Members in card order: firing before recovered, then by severity, then the dataset-wide finding
 * (dataset drift heads a drift incident), then by score, then by name so the order is stable.
 */
export function rankMembers(members: readonly IncidentMember[]): IncidentMember[] {
  return [...members].sort(
    (a, b) =>
      (a.state === b.state ? 0 : a.state === "firing" ? -1 : 1) ||
      SEVERITY_RANK[a.alert.severity] - SEVERITY_RANK[b.alert.severity] ||
      Number(b.alert.subject === WHOLE_DATASET) - Number(a.alert.subject === WHOLE_DATASET) ||
      memberScore(b.alert.metrics) - memberScore(a.alert.metrics) ||
      a.alert.subject.localeCompare(b.alert.subject),
  );
}

/**
 * Whether a group has recovered for good: every member recovered and clean for `resolveAfter`
 * runs. One member still firing, or recovered too recently, keeps the incident open, so a
 * flapping member flips on the card instead of closing and reopening the incident.
 */
export function groupRecovered(
  members: readonly Pick<IncidentMember, "state" | "cleanRuns">[],
  resolveAfter: number,
): boolean {
  return members.length > 0 && members.every((m) => m.state === "recovered" && m.cleanRuns >= resolveAfter);
}

/** The title of a group: its lead member's, with how many others fire beside it. */
export function groupTitle(members: readonly IncidentMember[]): string | undefined {
  const ranked = rankMembers(members);
  const lead = ranked[0];
  if (!lead) return undefined;
  const firing = ranked.filter((m) => m.state === "firing").length;
  const others = firing - (lead.state === "firing" ? 1 : 0);
  return others > 0 ? `${lead.alert.title} (+${others} more)` : lead.alert.title;
}
