/**
 * Retention: what each table keeps, enforced by one daily claimed job. Raw predictions go a day
 * partition at a time (never a big DELETE); the other tables lose one day's worth per run, in
 * batches, through an index on their time column.
 */
import { type SQL, sql } from "drizzle-orm";
import type { MlopsConfig } from "../config/index.js";
import { type Db, resultRows } from "../db/client.js";
import type { RollupRepository } from "../rollups/repository.js";
import type { Logger } from "../shared/logger.js";
import type { PartitionManager } from "./partitions.js";

/** Rows deleted per statement, so one run never holds long locks or a huge transaction. */
const BATCH = 10_000;

type Retention = MlopsConfig["storage"]["retention"];

/** What one run removed, by table. */
export type RetentionReport = Record<string, number>;

async function deleteInBatches(db: Db, table: string, where: SQL): Promise<number> {
  let total = 0;
  for (;;) {
    const [r] = resultRows<{ n: number }>(
      await db.execute(sql`with d as (
          delete from ${sql.raw(table)} where ctid = any(array(select ctid from ${sql.raw(table)} where ${where} limit ${BATCH}))
          returning 1) select count(*)::int as n from d`),
    );
    const n = r?.n ?? 0;
    total += n;
    if (n < BATCH) return total;
  }
}

const before = (now: Date, ms: number) => new Date(now.getTime() - ms).toISOString();

/** Applies every retention once; returns what it removed per table. */
export async function applyRetention(deps: {
  db: Db;
  partitions: PartitionManager;
  rollups: RollupRepository;
  retention: Retention;
  now: Date;
  logger: Logger;
}): Promise<RetentionReport> {
  const { db, retention: r, now } = deps;
  const report: RetentionReport = {};
  const dropped = await deps.partitions.dropBefore(new Date(now.getTime() - r.raw_predictions));
  report.predictions = dropped.reduce((s, p) => s + p.rows, 0);
  if (dropped.length) report.prediction_partitions = dropped.length;
  report.rollups_minute = await deps.rollups.trim("minute", new Date(now.getTime() - r.minute_rollups));
  report.rollups_hour = await deps.rollups.trim("hour", new Date(now.getTime() - r.rollups));
  report.monitor_runs = await deleteInBatches(
    db,
    "monitor_runs",
    sql`started_at < ${before(now, r.monitor_runs)}::timestamptz`,
  );
  report.outbox = await deleteInBatches(
    db,
    "outbox",
    // A delivered row that a card, a thread or a timeline event still points at keeps the Slack
    // ts that later updates need: only rows nothing references go.
    sql`state in ('sent', 'superseded') and coalesce(sent_at, created_at) < ${before(now, r.outbox)}::timestamptz
      and not exists (select 1 from incidents i where i.card_outbox_id = outbox.id)
      and not exists (select 1 from incident_events e where e.outbox_id = outbox.id)
      and not exists (select 1 from runbook_runs b where b.progress_outbox_id = outbox.id)
      and not exists (select 1 from retrain_requests q where q.thread_outbox_id = outbox.id)
      and not exists (select 1 from candidates c where c.card_outbox_id = outbox.id or c.thread_outbox_id = outbox.id)`,
  );
  report.runbook_runs = await deleteInBatches(
    db,
    "runbook_runs",
    sql`status <> 'running' and finished_at < ${before(now, r.runbook_runs)}::timestamptz`,
  );
  report.cron_claims = await deleteInBatches(
    db,
    "cron_claims",
    sql`finished_at is not null and claimed_at < ${before(now, r.cron_claims)}::timestamptz`,
  );
  report.audit_log = await deleteInBatches(
    db,
    "audit_log",
    sql`at < ${before(now, r.audit_log)}::timestamptz`,
  );
  report.incident_events = await deleteInBatches(
    db,
    "incident_events",
    sql`at < ${before(now, r.incident_events)}::timestamptz and incident_id in (
      select id from incidents where state = 'resolved' and resolved_at < ${before(now, r.incident_events)}::timestamptz)`,
  );
  report.profile_receipts = await deleteInBatches(
    db,
    "profile_receipts",
    sql`received_at < ${before(now, 7 * 86_400_000)}::timestamptz`,
  );
  for (const k of Object.keys(report)) if (report[k] === 0) delete report[k];
  deps.logger.info({ removed: report }, "retention applied");
  return report;
}
