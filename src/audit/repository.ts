import { and, count, desc, eq, gte } from "drizzle-orm";
import type { Db } from "../db/index.js";

import { auditLog } from "../db/schema/index.js";
import type { Logger } from "../shared/logger.js";
import { storableStrings } from "../shared/storable.js";
import { createAuditBatcher } from "./batcher.js";

/** One audit record: who asked for what, and what came of it. */
export interface AuditEntry {
  source: "slack" | "api" | "system";
  actor: string | null;
  action: string;
  target?: string | null;
  outcome: "ok" | "refused" | "error";
  detail?: Record<string, unknown>;
}

// Sanitised because one record Postgres cannot store (a NUL, or an emoji cut in half by a length cap)
// would otherwise fail the whole batch it was written with.
const toRow = (entry: AuditEntry) =>
  storableStrings({ ...entry, target: entry.target ?? null, detail: entry.detail ?? {} });

/** The only code touching `audit_log`. */
export function createAuditRepository(db: Db) {
  return {
    /** Writes one record now; resolves once it is on file. */
    async record(entry: AuditEntry): Promise<void> {
      await db.insert(auditLog).values(toRow(entry));
    },
    /** Writes several records in one statement. */
    async recordMany(entries: AuditEntry[]): Promise<void> {
      if (entries.length > 0) await db.insert(auditLog).values(entries.map(toRow));
    },
    async recent(opts: { actor?: string; since?: Date; limit?: number } = {}) {
      const where = and(
        opts.actor ? eq(auditLog.actor, opts.actor) : undefined,
        opts.since ? gte(auditLog.at, opts.since) : undefined,
      );
      return db
        .select()
        .from(auditLog)
        .where(where)
        .orderBy(desc(auditLog.id))
        .limit(opts.limit ?? 50);
    },
    async count(): Promise<number> {
      const [row] = await db.select({ n: count() }).from(auditLog);
      return row?.n ?? 0;
    },
  };
}

/** The audit log's use cases. */
export type AuditRepository = ReturnType<typeof createAuditRepository>;

/** The audit log the bot runs with: the repository plus batched writes that stay off hot paths. */
export function createAuditLog(db: Db, logger: Logger) {
  const repository = createAuditRepository(db);
  const batcher = createAuditBatcher(repository.recordMany, logger);
  return {
    ...repository,
    /** Queues a record that must not delay the caller; see batcher.ts for the trade-off. */
    recordSoon: batcher.add,
    /** Writes every queued record (on shutdown, and in tests before reading). */
    flush: batcher.flush,
  };
}

/** The running audit log. */
export type AuditLog = ReturnType<typeof createAuditLog>;
