import type { ChartSpec } from "../charts/spec.js";
import type { Db } from "../db/index.js";
import type { IncidentMember } from "./group-model.js";
import type {
  Alert,
  Incident,
  IncidentAction,
  IncidentState,
  OwnerChange,
  ResolutionSummary,
  Silence,
  StatusUpdate,
  Via,
} from "./model.js";

/** Everything the incident card shows, read in the transaction that changed it. */
export interface IncidentSnapshot {
  incident: Incident;
  /** The alert that opened it. */
  alert: Alert;
  /** Every alert that fired into it (its group), firing first, ranked by severity and score. */
  members: IncidentMember[];
  /** Whether findings group into incidents (alerting.group_by leaves a label out). */
  grouped: boolean;
  /** Clean runs a recovered member needs before the incident resolves (alerting.resolve_after). */
  resolveAfter: number;
  /** The model's display name from the config. */
  modelName: string;
  /** The silence muting this incident now, if any. */
  silence: Silence | null;
  /** Runbooks suggested for it (filled in by the runbooks feature; empty until then). */
  runbooks: string[];
  /** Where its escalation stands (filled in by the escalation feature; absent without it). */
  escalation?: EscalationView | undefined;
  /** Where the acknowledgement came from when not Slack (e.g. `PagerDuty`), while acknowledged. */
  acknowledgedFrom?: string | undefined;
}

/** The escalation tier an incident is at, for the card. */
export interface EscalationView {
  /** 1, 2 or 3. */
  tier: number;
  /** The tier's user-group handle, e.g. `ds-oncall`. */
  handle: string;
  /** A schedule-only tier (`group: none`): the schedule whose person on call it pages; `handle` is empty. */
  schedule?: string;
  /** When the timer acts next (escalates or reminds), if it will. */
  nextAt: Date | null;
  /** Whether a higher tier exists (the card offers Escalate only then). */
  canEscalate: boolean;
}

/** A reply in the incident thread, said in domain terms; the Slack layer words it. */
export type ThreadNote =
  | { kind: "firing_again"; firings: number; alert: Alert }
  /** A finding joined the open incident of its group (a feature that started drifting later). */
  | { kind: "member_joined"; alert: Alert; members: number }
  | { kind: "reminder"; alert: Alert; firingForMs: number }
  | { kind: "alert_resolved"; alert: Alert }
  | {
      kind: "state";
      action: IncidentAction;
      actor: string;
      via: Via;
      note?: string | undefined;
      /** Where the person answered when not in Slack, e.g. `PagerDuty`. */
      from?: string | undefined;
    }
  | { kind: "resolved"; summary: ResolutionSummary }
  | { kind: "silenced"; silence: Silence; actor: string }
  | { kind: "silence_over"; silence: Silence; how: "expired" | "ended"; actor: string }
  | { kind: "followup"; actor: string; text: string; count: number }
  | { kind: "severity"; from: Incident["severity"]; to: Incident["severity"]; actor: string }
  | { kind: "owner"; owner: string; actor: string; how: OwnerChange }
  | {
      kind: "status_update";
      incidentId: number;
      actor: string;
      state: IncidentState;
      owner: string | null;
      update: StatusUpdate;
    }
  | {
      kind: "update_due";
      incidentId: number;
      owner: string;
      severity: Incident["severity"];
      everyMs: number;
      lastUpdateAt: Date | null;
    };

/**
 * Slack writes, queued in the caller's transaction (the outbox) so they go out if and only if the
 * change commits. Each returns the id of the outbox row that will deliver it.
 */
export interface IncidentNotifier {
  /** The card for a new incident, held back `delayMs` (group_wait); its thread hangs on it. */
  postCard(tx: Db, card: IncidentSnapshot, delayMs: number): Promise<number>;
  /** Re-renders the card in place. */
  updateCard(tx: Db, card: IncidentSnapshot): Promise<number>;
  /** An info finding, posted top level in the model's channel (the feed); it opens no incident. */
  feed(tx: Db, channel: string, alert: Alert): Promise<number>;
  /** A reply in the incident's thread. */
  reply(tx: Db, incident: Incident, note: ThreadNote): Promise<number>;
  /** Charts uploaded into the incident's thread (as PNG files with alt text), one outbox row each. */
  postCharts?(tx: Db, incident: Incident, charts: readonly ChartSpec[]): Promise<number[]>;
  /**
   * A text file uploaded into the incident's thread (the review). `filename` must be unique within
   * the thread: that is how a delivery whose outcome was lost in a crash is found instead of doubled.
   */
  postFile?(tx: Db, incident: Incident, file: ThreadFile): Promise<number>;
  /** A status update posted top level in another channel (the model's stakeholder channel). */
  announce(tx: Db, channel: string, incident: Incident, note: ThreadNote): Promise<number>;
  /** A DM to the incident's new owner (`card.incident.assignee`) with its summary, saying who handed it over. */
  handOver(tx: Db, card: IncidentSnapshot, by: string): Promise<number>;
  /** An ephemeral message to one person in a channel (refusals, "already done"). */
  tell(tx: Db, to: { channel: string; user: string }, text: string): Promise<number>;
  /** Called after commit: deliver what was just queued without waiting for the next poll. */
  wake(): void;
}

/** A text file for an incident's thread. */
export interface ThreadFile {
  filename: string;
  title: string;
  content: string;
  /** The message the file is shared with. */
  comment?: string;
}

/** Reads an incident's escalation in the caller's transaction; the escalation feature provides one. */
export type EscalationDescriber = (tx: Db, incident: Incident) => Promise<EscalationView | undefined>;

/**
 * Runbook suggestions for an incident; the runbooks feature provides one. `subjects` are its
 * firing members' subjects (each feature of a drift incident), so `when` rules still see them.
 */
export type RunbookSuggester = (incident: Incident, subjects?: readonly string[]) => string[];
