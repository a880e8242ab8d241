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
    state: text().$type<"pending" | "sending" | "sent" | "failed" | "superseded">().notNull(),
    attempts: integer().notNull().default(0),
    claimedAt: timestamp({ withTimezone: true, mode: "date" }),
    /** While `sending`: the process (`processes.id`) holding the claim; its death frees the row at once. */
    claimedBy: text(),
    /** While `sending`: when another dispatcher may assume the sender died and take the row back. */
    leaseUntil: timestamp({ withTimezone: true, mode: "date" }),
    sentAt: timestamp({ withTimezone: true, mode: "date" }),
    resultTs: text(),
    resultChannel: text(),
    lastError: text(),
  },
  (t) => [
    index("outbox_stream_open_idx").on(t.stream, t.id).where(sql`${t.state} in ('pending', 'sending')`),
    index("outbox_pending_idx").on(t.availableAt).where(sql`${t.state} = 'pending'`),
    index("outbox_paced_idx").on(t.channel, t.claimedAt).where(sql`${t.paced}`),
    index("outbox_coalesce_idx").on(t.coalesceKey).where(sql`${t.state} = 'pending'`),
    index("outbox_sending_idx").on(t.leaseUntil).where(sql`${t.state} = 'sending'`),
  ],
);
