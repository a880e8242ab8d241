/** Escalation's rules, pure: the policy a model gets, who is in which tier, what a deadline does. */
import type { MlopsConfig } from "../config/index.js";
import type { incidentEscalations } from "../db/schema/index.js";
import type { Severity } from "../shared/severity.js";

/** The tiers, lowest first. */
export const TIERS = [1, 2, 3] as const;
/** A tier: 1 (L1 operators), 2 (L2 data scientists), 3 (L3 model owners). */
export type Tier = (typeof TIERS)[number];

/** A tier's `group` when it pages only whoever is on call in its schedule. */
export const NO_GROUP = "none";

/**
 * One tier of a frozen policy; `group` is a key of `workspace.user_groups` (owners resolved), or
 * NO_GROUP for a schedule-only tier.
 */
export interface TierPolicy {
  group: string;
  waitMs: number;
  repeat: number;
  dm: boolean;
  channel: string | null;
  /** The schedule whose person on call is DMed instead of every member (absent in older snapshots). */
  schedule?: string | null;
  /** Pages beyond Slack after this tier's Slack page (absent in older snapshots and without `notify`). */
  notify?: { pager: string; afterMs: number }[];
}

/** The policy an escalation runs on, frozen when it starts (stored as JSON). */
export interface EscalationPolicy {
  tiers: Record<`${Tier}`, TierPolicy>;
  auto: boolean;
  remindEveryMs: number | null;
  /** The tier paged when the incident opens (`escalation.severity.<level>.start`); 1 when absent (older rows). */
  startTier?: number;
  /** The severity the policy was chosen for. */
  severity?: Severity;
}

/** An `incident_escalations` row. */
export type EscalationRow = typeof incidentEscalations.$inferSelect;

/** The timeline kinds this feature writes (the incidents feature owns `refused` and `unchanged`). */
export const ESCALATION_EVENTS = {
  /** The policy was frozen for the incident (no Slack write). */
  policy: "policy_snapshot",
  /** Moved to a higher tier (by a person or the timer). */
  escalated: "escalated",
  /** A tier was paged: mention and DMs queued. */
  paged: "paged",
  /** Someone acknowledged a page of an incident that was already acknowledged. */
  pageAcknowledged: "page_acknowledged",
  /** The last tier was paged as often as the policy says; the timer stops. */
  exhausted: "escalation_exhausted",
  /** A reminder while acknowledged but unresolved. */
  reminded: "escalation_reminded",
} as const;

/** The label of a tier: `L2`. */
export function tierLabel(tier: number): string {
  return `L${tier}`;
}

/**
 * The policy for a model's incident of `severity`: `escalation.default`, then the severity's
 * policy (`escalation.severity`: its start tier and overrides), then the model's overrides, with
 * `owners` resolved.
 */
export function policyFor(config: MlopsConfig, modelSlug: string, severity?: Severity): EscalationPolicy {
  const base = config.escalation.default;
  const bySeverity = severity ? config.escalation.severity[severity] : undefined;
  const over = config.escalation.models[modelSlug];
  const owners = config.models.find((m) => m.slug === modelSlug)?.owners;
  const tier = (key: "l1" | "l2" | "l3"): TierPolicy => {
    const merged = {
      ...base[key],
      ...stripUndefined(bySeverity?.[key] ?? {}),
      ...stripUndefined(over?.[key] ?? {}),
    };
    const group = merged.group === "owners" ? (owners ?? "owners") : merged.group;
    return {
      group,
      waitMs: merged.wait,
      repeat: merged.repeat,
      dm: merged.dm,
      channel: merged.channel ?? null,
      // Only when set, so policies without schedules freeze exactly as before.
      ...(merged.schedule ? { schedule: merged.schedule } : {}),
      ...(merged.notify?.length
        ? { notify: merged.notify.map((r) => ({ pager: r.pager, afterMs: r.after })) }
        : {}),
    };
  };
  return {
    tiers: { 1: tier("l1"), 2: tier("l2"), 3: tier("l3") },
    auto: over?.auto ?? bySeverity?.auto ?? base.auto,
    remindEveryMs: over?.remind_every ?? bySeverity?.remind_every ?? base.remind_every ?? null,
    startTier: startTierOf(config, severity),
    ...(severity ? { severity } : {}),
  };
}

/** The tier an incident of `severity` starts at (`escalation.severity.<level>.start`). */
export function startTierOf(config: MlopsConfig, severity?: Severity): number {
  const start = severity ? config.escalation.severity[severity]?.start : undefined;
  return start === "l3" ? 3 : start === "l2" ? 2 : 1;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The tier policy of `tier` in a frozen policy. */
export function tierOf(policy: EscalationPolicy, tier: number): TierPolicy {
  const t = policy.tiers[String(tier) as `${Tier}`];
  if (!t) throw new Error(`no tier ${tier} in the escalation policy`);
  return t;
}

/**
 * The highest tier whose group is among `groupKeys` (a person's groups), or, for a schedule-only
 * tier, whose schedule is among `onCallIn` (the schedules the person is on call in now); 0 when none.
 */
export function highestTier(
  policy: EscalationPolicy,
  groupKeys: readonly string[],
  onCallIn: readonly string[] = [],
): number {
  let best = 0;
  for (const t of TIERS) {
    const tp = tierOf(policy, t);
    if (tp.group === NO_GROUP ? !!tp.schedule && onCallIn.includes(tp.schedule) : groupKeys.includes(tp.group))
      best = t;
  }
  return best;
}

/**
 * Who may escalate: someone of the current tier or a higher one (so L1 may page L2, and only L2 or
 * L3 may page L3; the timer may always). Returns why not, or undefined when allowed.
 */
export function escalateRefusal(current: number, personTier: number): string | undefined {
  if (personTier >= current) return undefined;
  return personTier === 0
    ? `that takes a member of ${tierLabel(current)} or a higher tier`
    : `you are in ${tierLabel(personTier)}; from ${tierLabel(current)} that takes ${tierLabel(current)} or a higher tier`;
}

/** What an incident looks like to the timer. */
export interface IncidentState {
  state: "open" | "acknowledged" | "mitigated" | "resolved";
  acknowledgedAt: Date | null;
}

/** Has the current tier's page been answered: the incident acknowledged, or the page, since the tier was reached? */
export function answered(
  row: Pick<EscalationRow, "tierSince" | "pageAckedAt">,
  incident: IncidentState,
): boolean {
  if (incident.state === "mitigated" || incident.state === "resolved") return true;
  const since = row.tierSince.getTime();
  if (incident.acknowledgedAt && incident.acknowledgedAt.getTime() >= since) return true;
  return row.pageAckedAt !== null && row.pageAckedAt.getTime() >= since;
}

/** What a due deadline does. */
export type DeadlineDecision =
  | { kind: "stop"; why: "resolved" | "answered" | "manual_only" }
  | { kind: "remind"; nextAt: Date }
  | { kind: "repeat"; tier: number; nextAt: Date | null }
  | { kind: "escalate"; tier: number; nextAt: Date | null }
  | { kind: "exhausted" };

/**
 * The next deadline after paging `tier` at `now`: its wait when the timer runs, else none. The last
 * tier keeps one too, so that when nobody answers even L3 the thread is told the timer gave up.
 */
export function deadlineAfterPage(policy: EscalationPolicy, tier: number, now: Date): Date | null {
  if (!policy.auto) return null;
  return new Date(now.getTime() + tierOf(policy, tier).waitMs);
}

/**
 * Decides a due deadline (pure). Resolved stops. Answered (acknowledged since the tier was paged)
 * turns into reminders when the policy has them, else stops. Otherwise the tier is paged again while
 * it has repeats left, then the next tier is paged, and after the last tier the timer stops.
 */
export function decideDeadline(
  row: Pick<EscalationRow, "tier" | "pagesAtTier" | "tierSince" | "pageAckedAt" | "nextKind">,
  policy: EscalationPolicy,
  incident: IncidentState,
  now: Date,
): DeadlineDecision {
  if (incident.state === "resolved") return { kind: "stop", why: "resolved" };
  if (row.nextKind === "remind" || answered(row, incident)) {
    return policy.remindEveryMs
      ? { kind: "remind", nextAt: new Date(now.getTime() + policy.remindEveryMs) }
      : { kind: "stop", why: "answered" };
  }
  if (!policy.auto) return { kind: "stop", why: "manual_only" };
  const t = tierOf(policy, row.tier);
  // pagesAtTier counts the first page too; L1's first "page" is the card itself.
  const pages = Math.max(1, row.pagesAtTier);
  if (pages <= t.repeat)
    return { kind: "repeat", tier: row.tier, nextAt: deadlineAfterPage(policy, row.tier, now) };
  if (row.tier < 3) {
    const next = row.tier + 1;
    return { kind: "escalate", tier: next, nextAt: deadlineAfterPage(policy, next, now) };
  }
  return { kind: "exhausted" };
}

/** `5m`, `1h 30m`: a wait as people say it. */
export function formatWait(ms: number): string {
  if (ms < 60_000) return `${Math.round(ms / 1000)}s`;
  const minutes = Math.round(ms / 60_000);
  if (minutes < 60) return `${minutes}m`;
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return m ? `${h}h ${m}m` : `${h}h`;
}
