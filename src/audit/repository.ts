import { and, count, desc, eq, gte } from "drizzle-orm";
import type { Db } from "../db/index.js";
import { auditLog } from "../db/schema/index.js";

/** One audit record: who asked for what, and what came of it. */
export interface AuditEntry {
  source: "slack" | "api" | "system";
  actor: string | null;
  action: string;
  target?: string | null;
  outcome: "ok" | "refused" | "error";
  detail?: Record<string, unknown>;
}

/** The only code touching `audit_log`. */
export function createAuditRepository(db: Db) {
  return {
    async record(entry: AuditEntry): Promise<void> {
      await db
        .insert(auditLog)
        .values({ ...entry, target: entry.target ?? null, detail: entry.detail ?? {} });
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
