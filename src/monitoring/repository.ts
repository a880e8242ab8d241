import { and, asc, desc, eq, gte, lt, type SQL, sql } from "drizzle-orm";
import { type Db, resultRows } from "../db/client.js";
import { monitorRuns, referenceProfiles } from "../db/schema/index.js";
import {
  type DEADMAN_MONITOR,
  type Finding,
  MONITOR_KINDS,
  type MonitorKind,
  type MonitorOutcome,
  type RunTrigger,
} from "./model.js";
import type { ReferenceProfile } from "./profile.js";

/** The query behind `recentRuns` (exported so a test can check its plan against a large history). */
export function recentRunsQuery(modelId: number, perMonitor: number): SQL {
  const kinds = `{${MONITOR_KINDS.join(",")}}`;
  return sql`
    select r.id, r.monitor, r.trigger, r.status, r.rows, r.labelled_rows, r.metrics, r.rule, r.findings,
      r.started_at, r.duration_ms, r.window_from, r.window_to
    from unnest(${kinds}::text[]) as k(monitor)
    cross join lateral (
      select * from monitor_runs
      where model_id = ${modelId} and monitor = k.monitor
      order by started_at desc, id desc limit ${perMonitor}
    ) r order by r.monitor, r.started_at desc, r.id desc`;
}

/**
 * The query behind `lastScheduledRun`: the dead-man's switch asks it for every monitor each minute,
 * so it reads the newest runs backwards on the (model, monitor, started_at) index and stops at the
 * first scheduled one (exported so a test can check its plan).
 */
export function lastScheduledRunQuery(modelId: number, monitor: string): SQL {
  return sql`select started_at from monitor_runs
    where model_id = ${modelId} and monitor = ${monitor} and trigger = 'schedule'
    order by started_at desc limit 1`;
}

/** The only code touching `monitor_runs` and `reference_profiles`. */
export function createMonitoringRepository(db: Db) {
  return {
    async saveProfile(row: {
      modelId: number;
      modelVersion: string | null;
      source: Record<string, unknown>;
      profile: ReferenceProfile;
      createdBy: string;
      at: Date;
    }): Promise<number> {
      const [created] = await db
        .insert(referenceProfiles)
        .values({
          modelId: row.modelId,
          modelVersion: row.modelVersion,
          source: row.source,
          rows: row.profile.rows,
          profile: row.profile as unknown as Record<string, unknown>,
          createdBy: row.createdBy,
          createdAt: row.at,
        })
        .returning({ id: referenceProfiles.id });
      return created?.id as number;
    },
    /** The profile in force for a model: the newest. */
    async latestProfile(
      modelId: number,
    ): Promise<{ id: number; profile: ReferenceProfile; createdAt: Date } | null> {
      const [row] = await db
        .select({
          id: referenceProfiles.id,
          profile: referenceProfiles.profile,
          createdAt: referenceProfiles.createdAt,
        })
        .from(referenceProfiles)
        .where(eq(referenceProfiles.modelId, modelId))
        .orderBy(desc(referenceProfiles.createdAt), desc(referenceProfiles.id))
        .limit(1);
      return row
        ? { id: row.id, profile: row.profile as unknown as ReferenceProfile, createdAt: row.createdAt }
        : null;
    },
    async insertRun(row: {
      modelId: number;
      monitor: MonitorKind | typeof DEADMAN_MONITOR;
      trigger: RunTrigger;
      outcome: MonitorOutcome;
      profileId: number | null;
      startedAt: Date;
      durationMs: number;
    }): Promise<number> {
      const o = row.outcome;
      const [created] = await db
        .insert(monitorRuns)
        .values({
          modelId: row.modelId,
          monitor: row.monitor,
          trigger: row.trigger,
          status: o.status,
          windowFrom: o.window?.from ?? null,
          windowTo: o.window?.to ?? null,
          rows: o.rows,
          labelledRows: o.labelledRows ?? null,
          metrics: { ...o.metrics, ...(o.note ? { note: o.note } : {}) },
          rule: o.rule,
          findings: o.findings as unknown as Record<string, unknown>[],
          profileId: row.profileId,
          error: o.status === "error" ? (o.note ?? "failed") : null,
          startedAt: row.startedAt,
          durationMs: Math.round(row.durationMs),
        })
        .returning({ id: monitorRuns.id });
      return created?.id as number;
    },
    /** Findings and metrics of the newest run of a monitor that was not skipped or failed. */
    async lastDecisive(
      modelId: number,
      monitor: MonitorKind | typeof DEADMAN_MONITOR,
    ): Promise<{ findings: Finding[]; metrics: Record<string, unknown>; startedAt: Date } | undefined> {
      const [row] = await db
        .select({
          findings: monitorRuns.findings,
          metrics: monitorRuns.metrics,
          startedAt: monitorRuns.startedAt,
        })
        .from(monitorRuns)
        .where(
          and(
            eq(monitorRuns.modelId, modelId),
            eq(monitorRuns.monitor, monitor),
            sql`${monitorRuns.status} in ('ok', 'alert')`,
            // A spot check of one segment says nothing about the others.
            sql`not (${monitorRuns.metrics} ? 'segment_only')`,
          ),
        )
        .orderBy(desc(monitorRuns.startedAt), desc(monitorRuns.id))
        .limit(1);
      return row
        ? { findings: row.findings as unknown as Finding[], metrics: row.metrics, startedAt: row.startedAt }
        : undefined;
    },
    /**
     * The newest `perMonitor` runs of each monitor of a model, newest first. One index probe per
     * monitor kind, each stopped after `perMonitor` rows, so the cost does not grow with history
     * (it backs `/mlops status` and the escalation page's context).
     */
    async recentRuns(modelId: number, perMonitor: number) {
      const result = await db.execute(recentRunsQuery(modelId, perMonitor));
      return resultRows<{
        id: number;
        monitor: MonitorKind;
        trigger: RunTrigger;
        status: MonitorOutcome["status"];
        rows: number;
        labelled_rows: number | null;
        metrics: Record<string, unknown>;
        rule: string;
        findings: Finding[];
        started_at: string | Date;
        duration_ms: number;
      }>(result).map((r) => ({ ...r, id: Number(r.id), started_at: new Date(r.started_at) }));
    },
    /** When the newest scheduled run of a monitor of a model started (any status: it finished), or null. */
    async lastScheduledRun(modelId: number, monitor: MonitorKind): Promise<Date | null> {
      const [row] = resultRows<{ started_at: Date | string }>(
        await db.execute(lastScheduledRunQuery(modelId, monitor)),
      );
      return row ? new Date(row.started_at) : null;
    },
    /** The newest `limit` runs of one monitor of a model, oldest first (the charts' history). */
    async latestRuns(modelId: number, monitor: string, limit: number) {
      const rows = await db
        .select({
          startedAt: monitorRuns.startedAt,
          status: monitorRuns.status,
          rows: monitorRuns.rows,
          metrics: monitorRuns.metrics,
        })
        .from(monitorRuns)
        .where(and(eq(monitorRuns.modelId, modelId), eq(monitorRuns.monitor, monitor)))
        .orderBy(desc(monitorRuns.startedAt), desc(monitorRuns.id))
        .limit(limit);
      return rows.reverse();
    },
    /** Runs of one monitor of a model that started in [from, to), oldest first, at most `limit`. */
    async runsBetween(modelId: number, monitor: string, from: Date, to: Date, limit = 2000) {
      return db
        .select()
        .from(monitorRuns)
        .where(
          and(
            eq(monitorRuns.modelId, modelId),
            eq(monitorRuns.monitor, monitor),
            gte(monitorRuns.startedAt, from),
            lt(monitorRuns.startedAt, to),
          ),
        )
        .orderBy(asc(monitorRuns.startedAt), asc(monitorRuns.id))
        .limit(limit);
    },
  };
}

/** The monitoring repository. */
export type MonitoringRepository = ReturnType<typeof createMonitoringRepository>;
