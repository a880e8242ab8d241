import { createHash } from "node:crypto";
import { z } from "zod";
import type { GroupLabel } from "../config/index.js";
import type { AlertSignal } from "../shared/alert-signal.js";

const text = (max: number) => z.string().min(1).max(max);

/** What a valid `AlertSignal` looks like; monitors and the Alertmanager webhook are checked against it. */
export const alertSignalSchema = z.strictObject({
  source: z.enum(["monitor", "alertmanager", "manual"]),
  model: text(63),
  modelVersion: z.string().max(100).optional(),
  monitor: text(100),
  subject: text(200),
  status: z.enum(["firing", "resolved"]),
  severity: z.enum(["info", "warning", "critical"]),
  title: text(300),
  summary: z.string().max(2500),
  metrics: z
    .record(z.string().max(100), z.union([z.number(), z.string().max(200), z.null()]))
    .refine((m) => Object.keys(m).length <= 40, "at most 40 metrics"),
  rule: z.string().max(500),
  observedAt: z.date(),
  dataFrom: z.date().optional(),
  monitorRunId: z.number().int().positive().optional(),
  labels: z
    .record(z.string().max(100), z.string().max(500))
    .refine((m) => Object.keys(m).length <= 40, "at most 40 labels")
    .optional(),
});

/**
 * The fingerprint of a problem: model + monitor + subject, hashed so it is short and fixed-width.
 * The same three always give the same fingerprint, across processes and restarts.
 */
export function fingerprintOf(signal: Pick<AlertSignal, "model" | "monitor" | "subject">): string {
  return createHash("sha256")
    .update(`${signal.model}\u0000${signal.monitor}\u0000${signal.subject}`)
    .digest("hex")
    .slice(0, 16);
}

/** When Alertmanager-style notifications go out; from `alerting` in the config, in ms. */
export interface NotificationPolicy {
  groupWaitMs: number;
  groupIntervalMs: number;
  repeatIntervalMs: number;
  resolveWithAlert: boolean;
  /** The labels whose values form an incident's group key (alerting.group_by). */
  groupBy: readonly GroupLabel[];
  /** Clean monitor runs every member needs before its incident resolves on its own. */
  resolveAfter: number;
}

/** The repeat-firing state an incident carries for the policy. */
export interface FiringState {
  lastNoteAt: Date | null;
  pendingFirings: number;
}

/**
 * A repeat firing of an open incident: reply in the thread now when nothing was said about
 * firings within `group_interval`, else hold it back and count it (the next reply or the
 * scheduled flush reports the count). The first repeat is always reported at once.
 */
export function onRepeatFiring(
  state: FiringState,
  now: Date,
  policy: Pick<NotificationPolicy, "groupIntervalMs">,
): { reply: boolean; firings: number } {
  const firings = state.pendingFirings + 1;
  const quietSince = state.lastNoteAt ? now.getTime() - state.lastNoteAt.getTime() : Number.POSITIVE_INFINITY;
  return { reply: quietSince >= policy.groupIntervalMs, firings };
}

/** Whether held-back firings are due for their reply (the group_interval flush). */
export function heldFiringsDue(
  state: FiringState,
  now: Date,
  policy: Pick<NotificationPolicy, "groupIntervalMs">,
): boolean {
  if (state.pendingFirings <= 0) return false;
  const since = state.lastNoteAt?.getTime() ?? 0;
  return now.getTime() - since >= policy.groupIntervalMs;
}

/** When the next "still firing" reminder is due. */
export function nextReminderAt(from: Date, policy: Pick<NotificationPolicy, "repeatIntervalMs">): Date {
  return new Date(from.getTime() + policy.repeatIntervalMs);
}
