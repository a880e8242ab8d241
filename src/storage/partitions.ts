/**
 * The daily partitions of `predictions`: made ahead by a claimed job (and on demand for a
 * batch that reaches a day with none, e.g. a backfill of old data), dropped whole once their day
 * is past the raw retention. Days are UTC; a partition is named `predictions_pYYYYMMDD`.
 */
import { sql } from "drizzle-orm";
import { type Db, resultRows } from "../db/client.js";

const DAY = 86_400_000;
const NAME = /^predictions_p(\d{4})(\d{2})(\d{2})$/;

/** The UTC day (its start) that `t` falls in. */
export function dayOf(t: Date | number): number {
  const ms = typeof t === "number" ? t : t.getTime();
  return Math.floor(ms / DAY) * DAY;
}

/** The partition name of the day starting at `day`. */
export function partitionName(day: number): string {
  const d = new Date(day);
  const p = (n: number) => String(n).padStart(2, "0");
  return `predictions_p${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}`;
}

/** The day a partition name stands for, or null for a name that is not ours. */
export function partitionDay(name: string): number | null {
  const m = NAME.exec(name);
  return m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : null;
}

function isDuplicate(err: unknown): boolean {
  const code = (err as { code?: string }).code ?? (err as { cause?: { code?: string } }).cause?.code;
  // 42P07 duplicate_table; 42P17 invalid_object_definition (partitions would overlap): another
  // replica made the same partition between our check and our create.
  return code === "42P07" || code === "42P17";
}

/** Partition upkeep for one database (remembers the days it has seen, so ingest asks once a day). */
export function createPartitionManager(db: Db, kind: "postgres" | "pglite") {
  const known = new Set<number>();
  async function create(day: number): Promise<boolean> {
    const name = partitionName(day);
    try {
      await db.execute(
        sql.raw(
          `create table if not exists ${name} partition of predictions for values from ('${new Date(day).toISOString()}') to ('${new Date(day + DAY).toISOString()}')`,
        ),
      );
      return true;
    } catch (err) {
      if (isDuplicate(err)) return false;
      throw err;
    }
  }
  return {
    /** The existing partitions, oldest first. */
    async list(): Promise<{ name: string; day: number }[]> {
      const rows = resultRows<{ name: string }>(
        await db.execute(sql`select c.relname as name from pg_inherits i
          join pg_class c on c.oid = i.inhrelid join pg_class p on p.oid = i.inhparent
          where p.relname = 'predictions'`),
      );
      return rows
        .map((r) => ({ name: r.name, day: partitionDay(r.name) }))
        .filter((r): r is { name: string; day: number } => r.day !== null)
        .sort((a, b) => a.day - b.day);
    },

    /** Makes sure every day that one of `times` falls in has its partition. */
    async ensureFor(times: Iterable<Date | number>): Promise<void> {
      const days = new Set<number>();
      for (const t of times) {
        const d = dayOf(t);
        if (!known.has(d)) days.add(d);
      }
      for (const d of days) {
        await create(d);
        known.add(d);
      }
    },

    /** Makes the partitions of the days from `now` to `daysAhead` days later; returns the new ones' names. */
    async makeAhead(now: Date, daysAhead: number): Promise<string[]> {
      const made: string[] = [];
      const existing = new Set((await this.list()).map((p) => p.day));
      for (let i = 0; i <= daysAhead; i++) {
        const d = dayOf(now) + i * DAY;
        if (!existing.has(d) && (await create(d))) made.push(partitionName(d));
        known.add(d);
      }
      return made;
    },

    /**
     * Drops every partition whose whole day is before `cutoff`; returns what it dropped with the
     * rows each held. On Postgres the partition is detached CONCURRENTLY first, so ingest into
     * today's partition never waits behind the drop.
     */
    async dropBefore(cutoff: Date): Promise<{ name: string; rows: number }[]> {
      const dropped: { name: string; rows: number }[] = [];
      for (const p of await this.list()) {
        if (p.day + DAY > cutoff.getTime()) continue;
        // The planner's estimate where there is one: counting a day of traffic exactly would read
        // it all just to log a number.
        const [est] = resultRows<{ n: number }>(
          await db.execute(sql`select reltuples::float8 as n from pg_class where relname = ${p.name}`),
        );
        const [count] =
          est && est.n >= 0
            ? [{ n: Math.round(est.n) }]
            : resultRows<{ n: number }>(
                await db.execute(sql.raw(`select count(*)::int as n from ${p.name}`)),
              );
        if (kind === "postgres")
          await db.execute(sql.raw(`alter table predictions detach partition ${p.name} concurrently`));
        else await db.execute(sql.raw(`alter table predictions detach partition ${p.name}`));
        await db.execute(sql.raw(`drop table ${p.name}`));
        known.delete(p.day);
        dropped.push({ name: p.name, rows: count?.n ?? 0 });
      }
      return dropped;
    },
  };
}

/** Partition upkeep. */
export type PartitionManager = ReturnType<typeof createPartitionManager>;
