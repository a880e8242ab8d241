import type { MlopsConfig, PermissionAction } from "../config/index.js";
import type { alerts, incidentEvents, incidents, silences } from "../db/schema/index.js";
import { formatDuration } from "../shared/duration.js";

/** An incident's lifecycle, in order. The escalation issue adds tiers, not states. */
export const INCIDENT_STATES = ["open", "acknowledged", "mitigated", "resolved"] as const;

/** One of `INCIDENT_STATES`. */
export type IncidentState = (typeof INCIDENT_STATES)[number];

/** What people (and alerts) can do to an incident's state. */
export type IncidentAction = "acknowledge" | "mitigate" | "resolve";

/**
 * The state machine, in one place: which states each action leaves from and where it goes.
 * Acknowledge only from open; mitigate from open or acknowledged; resolve from any unresolved
 * state. Resolved is final: the same problem firing later opens a new incident.
 */
const TRANSITIONS: Record<IncidentAction, { from: readonly IncidentState[]; to: IncidentState }> = {
  acknowledge: { from: ["open"], to: "acknowledged" },
  mitigate: { from: ["open", "acknowledged"], to: "mitigated" },
  resolve: { from: ["open", "acknowledged", "mitigated"], to: "resolved" },
};

/** The permission (`workspace.permissions`) each action needs. */
export const ACTION_PERMISSION: Record<IncidentAction, PermissionAction> = {
  acknowledge: "acknowledge",
  mitigate: "resolve",
  resolve: "resolve",
};

/** The outcome of applying an action to a state. */
export type TransitionResult = { ok: true; to: IncidentState } | { ok: false; reason: string };

/** Applies `action` to `state` by the table above. */
export function transition(state: IncidentState, action: IncidentAction): TransitionResult {
  const rule = TRANSITIONS[action];
  if (rule.from.includes(state)) return { ok: true, to: rule.to };
  return { ok: false, reason: `it is already ${state}` };
}

/** True while an incident is not resolved. */
export function isActive(state: IncidentState): boolean {
  return state !== "resolved";
}

/** `INC-42` for incident 42. */
export function formatRef(id: number): string {
  return `INC-${id}`;
}

/** The incident id in `INC-42`, `inc-42` or `42`; undefined for anything else. */
export function parseRef(text: string): number | undefined {
  const match = /^(?:INC-?)?(\d{1,9})$/i.exec(text.trim());
  if (!match) return undefined;
  const id = Number(match[1]);
  return id > 0 ? id : undefined;
}

/** The kinds of timeline events this feature writes; other features add their own strings. */
export const EVENT_KINDS = {
  opened: "opened",
  alertFired: "alert_fired",
  /** A member of the incident recovered (its alert reported resolved). */
  alertResolved: "alert_resolved",
  /** A finding joined the open incident of its group. */
  memberJoined: "member_joined",
  /** A member that had recovered fired again before its incident resolved (a flap). */
  memberFiredAgain: "member_fired_again",
  acknowledged: "acknowledged",
  mitigated: "mitigated",
  resolved: "resolved",
  /** Someone without the permission tried an action; nothing changed. */
  refused: "refused",
  /** An allowed action that changed nothing (e.g. acknowledging twice). */
  unchanged: "unchanged",
  /** Firings held back by group_interval, reported in one thread reply. */
  firingsReported: "firings_reported",
  reminded: "reminded",
  /** A Slack write about the incident (card, thread reply) was queued; its outbox row says when it went out. */
  posted: "posted",
  silenced: "silenced",
  unsilenced: "unsilenced",
  silenceExpired: "silence_expired",
  /** A follow-up item for the post-incident review (`detail.text`). */
  followupAdded: "followup_added",
  /** The owner (commander) changed: taken, assigned, or set by the first acknowledgement. */
  ownerChanged: "owner_changed",
  /** Someone changed the severity by hand (the card's select); detail has from and to. */
  severityChanged: "severity_changed",
  /** A status update was posted (thread, and the model's stakeholder channel if any). */
  statusUpdate: "status_update",
  /** The owner was reminded that no status update was posted within the severity's rhythm. */
  updateReminded: "update_reminded",
} as const;

/** The permission that lets someone take, assign and update an incident: whoever may acknowledge it. */
export const OWNER_PERMISSION: PermissionAction = "acknowledge";

/** How an incident got its owner. */
export type OwnerChange = "took" | "assigned" | "acknowledged";

/** A status update: what is known and the next step; the incident's state is its status. */
export interface StatusUpdate {
  known: string;
  next?: string | undefined;
}

/**
 * Reads the text of `/mlops update INC-n <text>`: what is known, then optionally `next:` and the
 * next step (`Upstream ETL dropped a column. next: rerun it at 14:00`). Undefined when empty.
 */
export function parseStatusUpdate(text: string): StatusUpdate | undefined {
  const match = /^(.*?)(?:\s*\bnext(?: step)?\s*:\s*(.*))?$/is.exec(text.trim());
  const known = match?.[1]?.trim() ?? "";
  const next = match?.[2]?.trim() || undefined;
  if (!known) return undefined;
  return { known, next };
}

/** The event an action writes when it changes the state. */
export const ACTION_EVENT: Record<IncidentAction, string> = {
  acknowledge: EVENT_KINDS.acknowledged,
  mitigate: EVENT_KINDS.mitigated,
  resolve: EVENT_KINDS.resolved,
};

/** How something reached the incident. */
export type Via = "button" | "command" | "modal" | "alert" | "api" | "schedule" | "pager";

/** An incident row. */
export type Incident = typeof incidents.$inferSelect;
/** An alert row (one per fingerprint). */
export type Alert = typeof alerts.$inferSelect;
/** A timeline event row. */
export type IncidentEvent = typeof incidentEvents.$inferSelect;
/** A silence row. */
export type Silence = typeof silences.$inferSelect;

/** Names of the sandbox's made-up people by Slack id; with real Slack, ids stay ids. */
export function sandboxNames(config: MlopsConfig): ReadonlyMap<string, string> {
  return new Map(config.sandbox.users.map((u) => [u.id, `${u.real_name} (@${u.name})`]));
}

/** Who is shown for an actor id: Slack users as mentions, systems by name. */
export function actorLabel(actor: string): string {
  return /^[UW][A-Z0-9]{2,}$/.test(actor) ? `<@${actor}>` : actor;
}

/** The resolution summary posted in the thread: how long it took and who did what. */
export interface ResolutionSummary {
  ref: string;
  duration: string;
  resolvedBy: string;
  resolution: string | null;
  firings: number;
  /** One line per person or system, in order of first appearance: "<@U1> acknowledged, silenced". */
  contributions: string[];
}

const DONE_BY_PEOPLE = new Set<string>([
  EVENT_KINDS.acknowledged,
  EVENT_KINDS.mitigated,
  EVENT_KINDS.resolved,
  EVENT_KINDS.silenced,
  EVENT_KINDS.unsilenced,
]);

/** Builds the summary from the resolved incident and its timeline (pure). */
export function summarizeResolution(incident: Incident, events: readonly IncidentEvent[]): ResolutionSummary {
  const resolvedAt = incident.resolvedAt ?? incident.lastFiredAt;
  const byActor = new Map<string, string[]>();
  for (const e of events) {
    // Runbook runs and escalations (later features) count as contributions too.
    const counts = DONE_BY_PEOPLE.has(e.kind) || e.kind.startsWith("runbook") || e.kind.startsWith("escalat");
    if (!counts) continue;
    const did = byActor.get(e.actor) ?? [];
    const word = e.kind.replace(/_/g, " ");
    if (!did.includes(word)) did.push(word);
    byActor.set(e.actor, did);
  }
  return {
    ref: formatRef(incident.id),
    duration: formatDuration(Math.max(0, resolvedAt.getTime() - incident.openedAt.getTime())),
    resolvedBy: incident.resolvedBy ?? "system",
    resolution: incident.resolution,
    firings: incident.alertCount,
    contributions: [...byActor.entries()].map(([actor, did]) => `${actorLabel(actor)}: ${did.join(", ")}`),
  };
}
