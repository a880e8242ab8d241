import { sql } from "drizzle-orm";
import {
  bigint,
  index,
  integer,
  jsonb,
  pgTable,
  serial,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";
import { incidents } from "./incidents.js";
import { outbox } from "./outbox.js";

/**
 * One row per runbook run: who ran what, for which incident, with which parameters, and what came
 * of it. A run is `running` while a replica owns it (`owner`, refreshed `heartbeat_at`); a run left
 * `running` by a process that died is marked `interrupted` by the next start (see the repository).
 * A runbook runs at most once at a time per incident.
 */
export const runbookRuns = pgTable(
  "runbook_runs",
  {
    id: serial().primaryKey(),
    runbook: text().notNull(),
    incidentId: integer().references(() => incidents.id),
    model: text(),
    /** A Slack user id (or `system`). */
    actor: text().notNull(),
    /** `button`, `modal` or `command`. */
    via: text().notNull(),
    params: jsonb().$type<Record<string, string | number | boolean>>().notNull(),
    status: text().$type<"running" | "succeeded" | "failed" | "timed_out" | "interrupted">().notNull(),
    exitCode: integer(),
    signal: text(),
    durationMs: integer(),
    /** Captured output (head and tail when it was longer than the cap). */
    output: text().notNull().default(""),
    /** Bytes of output left out between head and tail. */
    outputOmitted: integer().notNull().default(0),
    verify: text().$type<"passed" | "failed">(),
    verifyExitCode: integer(),
    verifyOutput: text(),
    startedAt: timestamp({ withTimezone: true, mode: "date" }).notNull(),
    finishedAt: timestamp({ withTimezone: true, mode: "date" }),
    /** The process that runs it (`<host>:<pid>:<random>`). */
    owner: text().notNull(),
    /** The running program's pid (it leads its own process group), to end it when its owner died. */
    pid: integer(),
    heartbeatAt: timestamp({ withTimezone: true, mode: "date" }).notNull(),
    /** Where the progress message lives and the outbox row that posts it (edits hang on it). */
    channel: text().notNull(),
    progressOutboxId: bigint({ mode: "number" }).references(() => outbox.id),
  },
  (t) => [
    index("runbook_runs_running_idx").on(t.heartbeatAt).where(sql`${t.status} = 'running'`),
    index("runbook_runs_incident_idx").on(t.incidentId, t.id),
    // One active run per runbook and incident (runs for no incident count as one "incident"):
    // a second click while it runs inserts nothing and is told who runs it.
    uniqueIndex("runbook_runs_one_active_idx")
      .on(t.runbook, sql`coalesce(${t.incidentId}, 0)`)
      .where(sql`${t.status} = 'running'`),
  ],
);
