import type { GroupRef } from "../access/index.js";
import type { Db } from "../db/index.js";
import type { Incident } from "../incidents/index.js";
import type { PageRow } from "./repository.js";

/** What the L2 and L3 pages carry besides the summary: the diagnosis context. */
export interface PageContext {
  /** The most drifted features of the newest drift run, worst first. */
  drift: {
    feature: string;
    method: string;
    value: number | null;
    threshold: number | null;
    drifted: boolean;
  }[];
  driftRule: string | null;
  /** Findings of the newest data-quality run. */
  dataQuality: { title: string; rule: string }[];
  /** Share of predictions under the confidence threshold, oldest run first. */
  confidence: { at: Date; lowShare: number | null }[];
  /** Runbook runs from the timeline, newest last. */
  runbooks: {
    at: Date;
    name: string;
    status: string;
    exitCode: number | null;
    durationMs: number | null;
    verify: string | null;
  }[];
  /** For L3: what happened since L2 was paged (kind, who, when, detail in words). */
  sinceL2: { at: Date; kind: string; actor: string; text: string }[];
}

/** A page ready to go out: who, where, with what. */
export interface PageMessage {
  incident: Incident;
  page: PageRow;
  /**
   * The tier's group handle and its Slack id, for `<!subteam^id>`; `none` for a schedule-only tier
   * (`group: none`), which mentions and DMs only the person on call.
   */
  group: { handle: string; id: string | null; none?: boolean };
  /** The incident thread's link, when the card is out. */
  threadLink: string | null;
  context: PageContext | null;
  modelName: string;
  /** The tier's schedule and who was on call in it when the page went out (null: nobody). */
  onCall?: { schedule: string; user: string | null } | null;
  /** When the timer acts next, if it will. */
  nextAt: Date | null;
}

/**
 * Who is on call in a schedule at an instant (the on-call feature's engine); null when nobody is.
 * The schedule names come from the validated config, so an unknown one never reaches it.
 */
export type OnCallLookup = (schedule: string, at: Date) => Promise<string | null>;

/**
 * Slack writes of escalation as outbox rows, queued in the caller's transaction. Each returns the
 * outbox id of the write.
 */
export interface EscalationNotifier {
  /** The page's mention of the tier's group: in the incident's thread, or top level in `channel`. */
  mention(tx: Db, message: PageMessage, channel: string | null): Promise<number>;
  /** The page's DM to one member (`dmChannel` from conversations.open). */
  dm(tx: Db, message: PageMessage, dmChannel: string): Promise<number>;
  /** A short note in the incident's thread (who escalated, reminders, the timer stopping). */
  note(tx: Db, incident: Incident, text: string): Promise<number>;
  /** An ephemeral to one person (refusals, "already done"). */
  tell(tx: Db, to: { channel: string; user: string }, text: string): Promise<number>;
  /** Re-renders the incident's card (its tier and buttons). */
  updateCard(tx: Db, incident: Incident): Promise<number>;
  /** After commit: deliver what was just queued now. */
  wake(): void;
}

/**
 * Slack reads paging needs. All are safe to repeat (a page that fails half way is simply tried
 * again), which is why they happen outside the outbox, while every write goes through it.
 */
export interface PageDirectory {
  /** A user group's Slack id (looked up by handle when the config has none); null when unknown. */
  groupId(group: GroupRef): Promise<string | null>;
  /** The group's members right now (`usergroups.users.list`). */
  members(group: GroupRef): Promise<string[]>;
  /** The DM channel with one user (`conversations.open`). */
  openDm(user: string): Promise<string>;
  /** A link to a message (the incident's thread). */
  link(channel: string, ts: string): Promise<string | null>;
}

/**
 * Pages beyond Slack (the pagers feature): queued in the transaction that sends a tier's Slack
 * page, made later by their own worker, so a provider's outage never holds the Slack page up.
 */
export interface PagerQueue {
  /** Queues `rules` for a page of `incident` at `tier` (step `step`) sent at `now`. */
  queue(
    tx: Db,
    page: {
      incident: Incident;
      tier: number;
      step: number;
      /** `person`: the on-call whose own rule this is (`oncall.people`); absent for the tier's rules. */
      rules: { pager: string; afterMs: number; person?: string }[];
      now: Date;
    },
  ): Promise<void>;
}
