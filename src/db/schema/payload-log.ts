import { sql } from "drizzle-orm";
import { index, integer, jsonb, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";
import { models } from "./models.js";

/**
 * Request and response halves of logged inferences (KServe / Seldon payload-logging CloudEvents),
 * one row per (model, `ce-id`), so a half waits here durably for its partner across restarts and
 * replicas. Each half is stored already mapped (features per instance; prediction, confidence and
 * version per instance), so pairing needs nothing but this row. A paired row keeps only its
 * timestamps (to recognise a redelivered half) and an expired one its half (for the report), both
 * for `ingest.cloudevents.keep`.
 */
export const payloadHalves = pgTable(
  "payload_halves",
  {
    modelId: integer()
      .notNull()
      .references(() => models.id, { onDelete: "cascade" }),
    eventId: text().notNull(),
    request: jsonb().$type<unknown>(),
    requestTime: timestamp({ withTimezone: true, mode: "date" }),
    response: jsonb().$type<unknown>(),
    responseTime: timestamp({ withTimezone: true, mode: "date" }),
    receivedAt: timestamp({ withTimezone: true, mode: "date" }).notNull(),
    expiresAt: timestamp({ withTimezone: true, mode: "date" }).notNull(),
    pairedAt: timestamp({ withTimezone: true, mode: "date" }),
    expiredAt: timestamp({ withTimezone: true, mode: "date" }),
  },
  (t) => [
    primaryKey({ columns: [t.modelId, t.eventId] }),
    index("payload_halves_waiting_idx")
      .on(t.expiresAt)
      .where(sql`${t.pairedAt} is null and ${t.expiredAt} is null`),
  ],
);
