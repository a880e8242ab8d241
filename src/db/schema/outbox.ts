import { sql } from "drizzle-orm";
import {
  type AnyPgColumn,
  bigint,
  bigserial,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uuid,
} from "drizzle-orm/pg-core";

/**
 * Every write to Slack, written in the same transaction as the change that causes it and delivered
 * by the dispatcher (`src/outbox/`). Rows of one `stream` are delivered strictly in id order; a
 * row's `parent_id` names the post it replies under (`chat.postMessage`) or edits (`chat.update`).
 */
export const outbox = pgTable(
  "outbox",
  {
    id: bigserial({ mode: "number" }).primaryKey(),
    createdAt: timestamp({ withTimezone: true, mode: "date" }).notNull(),
    /** Not before: group_wait, retry backoff and Retry-After push it forward. */
    availableAt: timestamp({ withTimezone: true, mode: "date" }).notNull(),
    /** Ordering key: the channel for channel messages, one per user for ephemerals. */
    stream: text().notNull(),
    /** `chat.postMessage`, `chat.update` or `chat.postEphemeral`. */
    method: text().notNull(),
    channel: text().notNull(),
    parentId: bigint({ mode: "number" }).references((): AnyPgColumn => outbox.id),
    /** The Web API arguments besides channel, thread_ts and ts (text, blocks, user…). */
    payload: jsonb().$type<Record<string, unknown>>().notNull(),
    /** A newer pending row with the same key makes older pending ones redundant (card updates). */
    coalesceKey: text(),
    /** Counts towards the channel's rate limit (Slack allows about one message per second). */
    paced: boolean().notNull(),
    /**
     * `failed`: Slack refused it for good; `dead`: retried `outbox.max_attempts` times without an
     * answer; `dropped`: an operator dropped a failed or dead row (`/mlops outbox`).
     */
    state: text()
      .$type<"pending" | "sending" | "sent" | "failed" | "dead" | "dropped" | "superseded">()
      .notNull(),
    /** Delivery attempts that count towards `outbox.max_attempts` (not 429s, not a paused workspace). */
    attempts: integer().notNull().default(0),
    /**
     * The current claim (random per claim, null when not `sending`): every state change after a
     * send names it, so a sender whose lease ran out can no longer touch the row (compare-and-set).
     */
    claimId: uuid(),
    /** When the row was claimed, on the database's clock (pacing counts these). */
    claimedAt: timestamp({ withTimezone: true, mode: "date" }),
    /** While `sending`: the process (`processes.id`) holding the claim; its death frees the row at once. */
    claimedBy: text(),
    /** While `sending`: when (database clock) another dispatcher may assume the sender died and take the row back. */
    leaseUntil: timestamp({ withTimezone: true, mode: "date" }),
    sentAt: timestamp({ withTimezone: true, mode: "date" }),
    resultTs: text(),
    resultChannel: text(),
    lastError: text(),
    /** When it became `dead` or `failed`. */
    deadAt: timestamp({ withTimezone: true, mode: "date" }),
  },
  (t) => [
    index("outbox_stream_open_idx").on(t.stream, t.id).where(sql`${t.state} in ('pending', 'sending')`),
    index("outbox_pending_idx").on(t.availableAt).where(sql`${t.state} = 'pending'`),
    index("outbox_paced_idx").on(t.channel, t.claimedAt).where(sql`${t.paced}`),
    index("outbox_coalesce_idx").on(t.coalesceKey).where(sql`${t.state} = 'pending'`),
    index("outbox_sending_idx").on(t.leaseUntil).where(sql`${t.state} = 'sending'`),
    index("outbox_dead_idx").on(t.id).where(sql`${t.state} in ('dead', 'failed')`),
  ],
);

/**
 * A Web API method that Slack rate-limits per workspace (`chat.update`, `chat.postEphemeral`,
 * `files.*`) held back for every row and every replica until `until` (database clock), after a 429.
 */
export const outboxMethodHolds = pgTable("outbox_method_holds", {
  method: text().primaryKey(),
  until: timestamp({ withTimezone: true, mode: "date" }).notNull(),
  reason: text().notNull(),
});
