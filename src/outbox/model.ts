import type { outbox } from "../db/schema/index.js";

/**
 * The Slack writes the outbox knows how to deliver. `files.uploadV2` is the three-step external
 * upload (its payload: filename, title, content, initial_comment), shared in the parent's thread.
 */
export const OUTBOX_METHODS = [
  "chat.postMessage",
  "chat.update",
  "chat.postEphemeral",
  "files.uploadV2",
] as const;

/** One of `OUTBOX_METHODS`. */
export type OutboxMethod = (typeof OUTBOX_METHODS)[number];

/** A row of the outbox table as stored. */
export type OutboxRow = typeof outbox.$inferSelect;

/** What a caller queues: one Slack write, delivered after the surrounding transaction commits. */
export interface OutboxMessage {
  method: OutboxMethod;
  /** Channel id or name; for `chat.update` the parent's delivered channel is used instead. */
  channel: string;
  /** Web API arguments besides channel, ts and thread_ts. */
  payload: Record<string, unknown>;
  /** The post this one replies under (`chat.postMessage`) or edits (`chat.update`). */
  parentId?: number | undefined;
  /** A later pending message with the same key replaces this one (e.g. `card:<incident>`). */
  coalesceKey?: string | undefined;
  /** Deliver no earlier than this many ms from now (group_wait). */
  delayMs?: number | undefined;
}

/**
 * How fast one channel may be written to: at most `burst` writes in any `windowMs`. Slack allows
 * about one message per second per channel, with short bursts; 3 per 3 s keeps to that sustained.
 */
export interface Pacing {
  burst: number;
  windowMs: number;
}

/** Slack's documented per-channel limit: one message per second, allowing a short burst. */
export const SLACK_CHANNEL_PACING: Pacing = { burst: 3, windowMs: 3000 };

/**
 * The ordering key: every write to a channel (cards, thread replies, card edits) in one stream, so
 * a thread's parent is always delivered before its replies and edits; ephemerals per user; chart
 * uploads per channel.
 */
export function streamOf(message: Pick<OutboxMessage, "method" | "channel" | "payload">): string {
  if (message.method === "chat.postEphemeral")
    return `ephemeral:${message.channel}:${String(message.payload.user)}`;
  // Charts queue apart, so an upload Slack keeps refusing holds back other charts, never the
  // channel's cards and replies; each still waits for the post it hangs under (see `claim`).
  if (message.method === "files.uploadV2" && message.payload.chart !== undefined)
    return `charts:${message.channel}`;
  return `channel:${message.channel}`;
}

/** Ephemerals are not channel messages and do not count towards the channel's rate. */
export function isPaced(method: OutboxMethod): boolean {
  return method !== "chat.postEphemeral";
}

/** Backoff before retrying after a 5xx or a network error: 250 ms doubling to 30 s, with ±20 % jitter. */
export function retryDelayMs(attempts: number, random: () => number = Math.random): number {
  const base = Math.min(30_000, 250 * 2 ** Math.max(0, attempts - 1));
  return Math.round(base * (0.8 + 0.4 * random()));
}

/** How a claim taken back from a stopped sender is marked in `last_error` (see the repository). */
export const CLAIM_LOST_PREFIX = "claim ";

/**
 * Whether the row's previous attempt may have reached Slack without being recorded: its sender
 * stopped while holding the claim (crash, SIGKILL, lost database connection).
 */
export function previousAttemptUnknown(row: Pick<OutboxRow, "attempts" | "lastError">): boolean {
  return row.attempts > 1 && (row.lastError ?? "").startsWith(CLAIM_LOST_PREFIX);
}
