/**
 * The one-off backfill of rollups from rows stored before rollups existed: the migration that
 * partitioned `predictions` marks it pending; the first start after it reads those rows an hour
 * at a time, in time order, and records their rollups, logging progress. It runs before the
 * scheduler starts, under an advisory lock, so monitors never see half of it and two replicas
 * never do it twice.
 */
import { sql } from "drizzle-orm";
import { type Db, resultRows } from "../db/client.js";
import type { RegisteredModel } from "../models/index.js";
import type { Logger } from "../shared/logger.js";
import { type RollupLayout, rollupBatch } from "./model.js";
import { createRollupRepository } from "./repository.js";

const BACKFILL_LOCK_KEY = 0x6266696c; // "bfil"
const HOUR = 3_600_000;

/** Backfills rollups when the migration asked for it; returns the rows rolled up. */
export async function backfillRollups(
  db: Db,
  models: readonly RegisteredModel[],
  layoutOf: (model: RegisteredModel) => RollupLayout,
  logger: Logger,
): Promise<number> {
  const rollups = createRollupRepository(db);
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${BACKFILL_LOCK_KEY})`);
    const [state] = resultRows<{ value: string }>(
      await tx.execute(sql`select value from maintenance_state where key = 'rollup_backfill'`),
    );
    if (state?.value !== "pending") return 0;
    let total = 0;
    for (const model of models) {
      const [span] = resultRows<{ lo: string | Date | null; hi: string | Date | null; n: number }>(
        await tx.execute(
          sql`select min(ts) as lo, max(ts) as hi, count(*)::float8 as n from predictions where model_id = ${model.id}`,
        ),
      );
      if (!span?.lo || !span.hi) continue;
      const layout = layoutOf(model);
      const start = Math.floor(new Date(span.lo).getTime() / HOUR) * HOUR;
      const end = new Date(span.hi).getTime();
      let done = 0;
      logger.info({ model: model.slug, rows: Number(span.n) }, "backfilling rollups from stored predictions");
      for (let h = start; h <= end; h += HOUR) {
        const rows = resultRows<{
          t: string | Date;
          v: string;
          p: string;
          c: number | null;
          n: (number | null)[];
          k: (string | null)[];
          x: Record<string, unknown> | null;
          l: string | null;
          q: Record<string, number> | null;
        }>(
          await tx.execute(sql`select ts as t, model_version as v, prediction as p, confidence as c, num as n, cat as k, extra as x, label as l, probabilities as q
            from predictions where model_id = ${model.id}
              and ts >= ${new Date(h).toISOString()}::timestamptz and ts < ${new Date(h + HOUR).toISOString()}::timestamptz`),
        );
        if (rows.length === 0) continue;
        const batch = rollupBatch(
          rows.map((r) => ({ ...r, t: new Date(r.t).toISOString(), c: r.c === null ? null : Number(r.c) })),
          layout,
        );
        await rollups.insertDeltas(tx, model.id, batch.values());
        done += rows.length;
        logger.info(
          { model: model.slug, hour: new Date(h).toISOString(), rows: done, of: Number(span.n) },
          "rollup backfill progress",
        );
      }
      total += done;
    }
    await tx.execute(
      sql`update maintenance_state set value = 'done', updated_at = now() where key = 'rollup_backfill'`,
    );
    logger.info({ rows: total }, "rollup backfill finished");
    return total;
  });
}
