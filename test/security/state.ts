import { sql } from "drizzle-orm";
import { type Db, resultRows } from "../../src/db/client.js";

/**
 * Tables a refused request may still write to: the timeline and audit log (refusals are recorded),
 * the outbox (the refusal is told to the user), the scheduler's own bookkeeping, and each
 * process's heartbeat row.
 */
const MAY_GROW = new Set([
  "incident_events",
  "audit_log",
  "outbox",
  "cron_claims",
  "monitor_runs",
  "api_tokens",
  "processes",
]);

/** A digest of every other table's rows, to compare before and after a storm of refused requests. */
export async function stateDigest(db: Db, alsoSkip: readonly string[] = []): Promise<Record<string, string>> {
  const tables = resultRows<{ name: string }>(
    await db.execute(
      sql`select table_name as name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by 1`,
    ),
  )
    .map((t) => t.name)
    .filter((t) => !MAY_GROW.has(t) && !alsoSkip.includes(t));
  const digest: Record<string, string> = {};
  for (const table of tables) {
    const [row] = resultRows<{ n: number; h: string | null }>(
      await db.execute(
        sql.raw(
          `select count(*)::int as n, md5(coalesce(string_agg(t::text, '|' order by t::text), '')) as h from "${table}" t`,
        ),
      ),
    );
    digest[table] = `${row?.n}:${row?.h}`;
  }
  return digest;
}
