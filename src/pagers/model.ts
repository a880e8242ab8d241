/** Pages beyond Slack, pure: what a pager call carries, provider names, timeline kinds, retry timing. */
import type { PagerConfig } from "../config/pagers.js";

/** What a pager call asks the provider to do. */
export const PAGER_ACTIONS = ["trigger", "acknowledge", "resolve"] as const;
/** One of `PAGER_ACTIONS`. */
export type PagerAction = (typeof PAGER_ACTIONS)[number];

/** The payload of an `adapter_calls` row of kind `pager` (no secrets: those come from the config). */
export interface PagerCallPayload {
  incidentId: number;
  /** `INC-n`: PagerDuty's dedup_key, Opsgenie's alias, the webhook's incident. */
  ref: string;
  pager: string;
  action: PagerAction;
  /** The tier and step of the Slack page that queued a trigger. */
  tier?: number;
  step?: number;
  /** How long after the Slack page the rule waits (a trigger after 0 is sent whatever happens meanwhile). */
  afterMs?: number;
  /** The on-call (Slack user id) whose own rule (`oncall.people`) queued this trigger. */
  person?: string;
}

/** The timeline kinds this feature writes. */
export const PAGER_EVENTS = {
  /** A provider accepted a trigger, acknowledge or resolve. */
  sent: "pager_sent",
  /** An attempt failed; `final` says whether it is given up. */
  failed: "pager_failed",
  /** A rule's wait ran out after someone answered: nothing was sent. */
  skipped: "pager_skipped",
  /** A provider's webhook answered for someone who has no Slack user in the pager's `users`. */
  unmapped: "pager_answer_unmapped",
} as const;

/** A provider's name as people say it. */
export function providerLabel(type: PagerConfig["type"]): string {
  return type === "pagerduty" ? "PagerDuty" : type === "opsgenie" ? "Opsgenie" : "webhook";
}

/** `PagerDuty (pd)`: a pager in the timeline and the thread. */
export function pagerLabel(name: string, pager: PagerConfig): string {
  return `${providerLabel(pager.type)} (${name})`;
}

/** How many attempts a pager call gets before it is given up and the failure timelined. */
export const PAGER_MAX_ATTEMPTS = 6;

/**
 * The wait before the next attempt: 2 s doubling to 5 min, or the provider's Retry-After when it
 * asks for longer (PagerDuty and Opsgenie answer 429 with one when they throttle).
 */
export function pagerRetryDelayMs(attempts: number, retryAfterMs?: number): number {
  const backoff = Math.min(300_000, 2_000 * 2 ** Math.max(0, attempts - 1));
  return Math.max(backoff, Math.min(retryAfterMs ?? 0, 3_600_000));
}

/** A `Retry-After` header (seconds or an HTTP date) in ms; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: Date): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime());
}

/** The provider action an incident's state calls for on a pager that was triggered; null: none yet. */
export function actionForState(
  state: "open" | "acknowledged" | "mitigated" | "resolved",
): PagerAction | null {
  if (state === "resolved") return "resolve";
  if (state === "acknowledged" || state === "mitigated") return "acknowledge";
  return null;
}
