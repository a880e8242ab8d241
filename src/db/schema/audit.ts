import { bigserial, index, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";

/**
 * Every request a person or a system made of the bot and what came of it: commands, clicks,
 * refusals. Incident timelines (incident_events) hold the incident-scoped story; this is the
 * workspace-wide record that also keeps what was refused and why.
 */
export const auditLog = pgTable(
  "audit_log",
  {
    id: bigserial({ mode: "number" }).primaryKey(),
    at: timestamp({ withTimezone: true, mode: "date" }).notNull().defaultNow(),
    source: text().$type<"slack" | "api" | "system">().notNull(),
    actor: text(),
    action: text().notNull(),
    target: text(),
    outcome: text().$type<"ok" | "refused" | "error">().notNull(),
    detail: jsonb().$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [index("audit_log_at_idx").on(t.at), index("audit_log_actor_idx").on(t.actor, t.at)],
);
