import { and, asc, desc, eq, gt, gte, inArray, isNotNull, lt, lte, ne, type SQL, sql } from "drizzle-orm";
import type { Db } from "../db/index.js";
import { incidentEvents, incidents, outbox } from "../db/schema/index.js";
import { storableStrings } from "../shared/storable.js";
import type { Incident, IncidentEvent, IncidentState, Via } from "./model.js";

/** A new timeline event. */
export interface NewEvent {
  incidentId: number;
  at: Date;
  kind: string;
  actor: string;
  via: Via | string;
  detail?: Record<string, unknown>;
  outboxId?: number | null;
}

/** Filters of an incident listing. */
export interface IncidentFilter {
  states?: readonly IncidentState[];
  model?: string;
  /** Only incidents of this monitor. */
  monitor?: string;
  since?: Date;
  /** Only incidents opened before this time. */
  until?: Date;
  limit?: number;
}

/** A timeline event with what became of the Slack write it caused. */
export type TimelineEntry = IncidentEvent & { delivery: string | null };

/** The only code touching `incidents` and `incident_events`. Pass a transaction to combine writes. */
export function createIncidentRepository(db: Db) {
  /** Unresolved incidents whose deadline `column` has passed, oldest first; locked, skipping busy ones. */
  function dueBy(
    column: typeof incidents.nextReminderAt | typeof incidents.updateDueAt,
    now: Date,
    limit: number,
    also?: SQL,
  ) {
    return db
      .select()
      .from(incidents)
      .where(and(ne(incidents.state, "resolved"), isNotNull(column), lte(column, now), also))
      .orderBy(asc(incidents.id))
      .limit(limit)
      .for("update", { skipLocked: true });
  }

  return {
    /** The open incident of a fingerprint, locked for this transaction when `lock`. */
    async findOpen(fingerprint: string, lock = false): Promise<Incident | undefined> {
      const q = db
        .select()
        .from(incidents)
        .where(and(eq(incidents.fingerprint, fingerprint), ne(incidents.state, "resolved")));
      const [row] = lock ? await q.for("update") : await q;
      return row;
    },

    /**
     * Inserts an open incident unless one is open for the fingerprint already (the partial unique
     * index decides, so two racing inserts cannot both succeed); undefined when one was open.
     */
    async insertOpen(values: typeof incidents.$inferInsert): Promise<Incident | undefined> {
      const [row] = await db
        .insert(incidents)
        .values(values)
        .onConflictDoNothing({ target: incidents.fingerprint, where: sql`state <> 'resolved'` })
        .returning();
      return row;
    },

    async byId(id: number, lock = false): Promise<Incident | undefined> {
      const q = db.select().from(incidents).where(eq(incidents.id, id));
      const [row] = lock ? await q.for("update") : await q;
      return row;
    },

    async update(id: number, patch: Partial<typeof incidents.$inferInsert>): Promise<Incident> {
      const [row] = await db
        .update(incidents)
        .set(storableStrings(patch))
        .where(eq(incidents.id, id))
        .returning();
      if (!row) throw new Error(`incident ${id} vanished during an update`);
      return row;
    },

    async addEvent(event: NewEvent): Promise<IncidentEvent> {
      const [row] = await db
        .insert(incidentEvents)
        .values(storableStrings({ ...event, detail: event.detail ?? {}, outboxId: event.outboxId ?? null }))
        .returning();
      if (!row) throw new Error("incident event insert returned no row");
      return row;
    },

    /** The timeline, oldest first, with each Slack write's delivery state. */
    async timeline(incidentId: number, limit = 500): Promise<TimelineEntry[]> {
      const rows = await db
        .select({ event: incidentEvents, delivery: outbox.state })
        .from(incidentEvents)
        .leftJoin(outbox, eq(outbox.id, incidentEvents.outboxId))
        .where(eq(incidentEvents.incidentId, incidentId))
        .orderBy(asc(incidentEvents.id))
        .limit(limit);
      return rows.map((r) => ({ ...r.event, delivery: r.delivery }));
    },

    /** The newest event of `kind` of an incident, if any. */
    async lastEvent(incidentId: number, kind: string): Promise<IncidentEvent | undefined> {
      const [row] = await db
        .select()
        .from(incidentEvents)
        .where(and(eq(incidentEvents.incidentId, incidentId), eq(incidentEvents.kind, kind)))
        .orderBy(desc(incidentEvents.id))
        .limit(1);
      return row;
    },

    async countEvents(incidentId: number, kind: string): Promise<number> {
      const [row] = await db
        .select({ n: sql<number>`count(*)::int` })
        .from(incidentEvents)
        .where(and(eq(incidentEvents.incidentId, incidentId), eq(incidentEvents.kind, kind)));
      return row?.n ?? 0;
    },

    /** Incidents newest first. */
    async list(filter: IncidentFilter): Promise<Incident[]> {
      const where: (SQL | undefined)[] = [
        filter.states?.length ? inArray(incidents.state, [...filter.states]) : undefined,
        filter.model ? eq(incidents.model, filter.model) : undefined,
        filter.since ? gte(incidents.openedAt, filter.since) : undefined,
        filter.monitor ? eq(incidents.monitor, filter.monitor) : undefined,
        filter.until ? lt(incidents.openedAt, filter.until) : undefined,
      ];
      return db
        .select()
        .from(incidents)
        .where(and(...where))
        .orderBy(desc(incidents.id))
        .limit(filter.limit ?? 50);
    },

    /** Unresolved incidents of a model (optionally one monitor or fingerprint), for silences. */
    async activeMatching(m: { model: string | null; monitor: string | null; fingerprint: string | null }) {
      return db
        .select()
        .from(incidents)
        .where(
          and(
            ne(incidents.state, "resolved"),
            m.model ? eq(incidents.model, m.model) : undefined,
            m.monitor ? eq(incidents.monitor, m.monitor) : undefined,
            m.fingerprint ? eq(incidents.fingerprint, m.fingerprint) : undefined,
          ),
        );
    },

    /** Unresolved incidents with held-back firings whose group_interval has passed; locked, skipping busy ones. */
    async dueFirings(now: Date, groupIntervalMs: number, limit: number): Promise<Incident[]> {
      const cutoff = new Date(now.getTime() - groupIntervalMs);
      return db
        .select()
        .from(incidents)
        .where(
          and(
            ne(incidents.state, "resolved"),
            gt(incidents.pendingFirings, 0),
            sql`coalesce(${incidents.lastNoteAt}, 'epoch'::timestamptz) <= ${cutoff.toISOString()}::timestamptz`,
          ),
        )
        .orderBy(asc(incidents.id))
        .limit(limit)
        .for("update", { skipLocked: true });
    },

    /** Unresolved incidents whose reminder is due; locked, skipping busy ones. */
    dueReminders(now: Date, limit: number): Promise<Incident[]> {
      return dueBy(incidents.nextReminderAt, now, limit);
    },

    /** Unresolved incidents with an owner whose status update is overdue; locked, skipping busy ones. */
    dueUpdates(now: Date, limit: number): Promise<Incident[]> {
      return dueBy(incidents.updateDueAt, now, limit, isNotNull(incidents.assignee));
    },
  };
}

/** The incident tables' operations. */
export type IncidentRepository = ReturnType<typeof createIncidentRepository>;
