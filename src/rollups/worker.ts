/**
 * Keeps rollups current: folds ingest deltas into the minute and hour rollups about once a second
 * (one replica at a time, by advisory lock), and moves labels that waited too long for their
 * prediction into the unmatched count. Readers add unfolded deltas themselves, so folding only
 * bounds how many deltas a read must merge.
 */
import { sql } from "drizzle-orm";
import { type Db, resultRows } from "../db/client.js";
import type { Clock } from "../shared/clock.js";
import type { Logger } from "../shared/logger.js";
import type { RollupRepository } from "./repository.js";

/** Label bookkeeping per model, for `/mlops status` and /metrics. */
export interface LabelHealth {
  pending: number;
  unmatched: number;
  joinedLate: number;
}

/** Reads and expires waiting labels. */
export function createLabelRepository(db: Db) {
  return {
    /** Counts labels older than `before` as unmatched and deletes them; returns how many. */
    async expire(before: Date, at: Date): Promise<number> {
      const rows = resultRows<{ model_id: number; n: number }>(
        await db.execute(sql`
          with gone as (delete from pending_labels where received_at < ${before.toISOString()}::timestamptz returning model_id),
          counted as (select model_id, count(*)::int as n from gone group by model_id),
          up as (
            insert into label_stats (model_id, unmatched, last_unmatched_at)
            select model_id, n, ${at.toISOString()}::timestamptz from counted
            on conflict (model_id) do update set unmatched = label_stats.unmatched + excluded.unmatched,
              last_unmatched_at = excluded.last_unmatched_at
          )
          select model_id, n from counted`),
      );
      return rows.reduce((s, r) => s + r.n, 0);
    },
    /** Waiting, unmatched and late-joined labels of one model. */
    async health(modelId: number): Promise<LabelHealth> {
      const [r] = resultRows<{ pending: number; unmatched: number | null; joined: number | null }>(
        await db.execute(sql`select
            (select count(*)::int from pending_labels where model_id = ${modelId}) as pending,
            (select unmatched from label_stats where model_id = ${modelId})::float8 as unmatched,
            (select joined_late from label_stats where model_id = ${modelId})::float8 as joined`),
      );
      return {
        pending: r?.pending ?? 0,
        unmatched: Number(r?.unmatched ?? 0),
        joinedLate: Number(r?.joined ?? 0),
      };
    },
    /** The same for every model, keyed by model id. */
    async all(): Promise<Map<number, LabelHealth>> {
      const rows = resultRows<{ model_id: number; pending: number; unmatched: number; joined: number }>(
        await db.execute(sql`
          select m.id as model_id,
            (select count(*)::int from pending_labels p where p.model_id = m.id) as pending,
            coalesce(s.unmatched, 0)::float8 as unmatched, coalesce(s.joined_late, 0)::float8 as joined
          from models m left join label_stats s on s.model_id = m.id`),
      );
      return new Map(
        rows.map((r) => [
          r.model_id,
          { pending: r.pending, unmatched: Number(r.unmatched), joinedLate: Number(r.joined) },
        ]),
      );
    },
  };
}

/** The folding loop. */
export function createRollupWorker(deps: {
  rollups: RollupRepository;
  labels: ReturnType<typeof createLabelRepository>;
  clock: Clock;
  logger: Logger;
  labelWaitMs: number;
  intervalMs?: number;
}) {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let lastExpiry = 0;
  let stopped = false;
  async function tick(): Promise<void> {
    // Fold until caught up, a batch at a time.
    while (!stopped && (await deps.rollups.fold()) > 0) {}
    const now = deps.clock.now();
    if (now.getTime() - lastExpiry >= 60_000) {
      lastExpiry = now.getTime();
      const n = await deps.labels.expire(new Date(now.getTime() - deps.labelWaitMs), now);
      if (n > 0)
        deps.logger.warn({ labels: n }, "labels found no prediction within the wait; counted as unmatched");
    }
  }
  function schedule() {
    if (stopped) return;
    timer = setTimeout(() => {
      running = tick()
        .catch((err) => deps.logger.error({ err }, "rollup fold failed; retrying"))
        .finally(() => {
          running = undefined;
          schedule();
        });
    }, deps.intervalMs ?? 1000);
    timer.unref();
  }
  return {
    start() {
      stopped = false;
      schedule();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
    /** Folds everything pending now and expires waiting labels (tests and benches call it). */
    async flush(): Promise<void> {
      while ((await deps.rollups.fold()) > 0) {}
      const now = deps.clock.now();
      await deps.labels.expire(new Date(now.getTime() - deps.labelWaitMs), now);
    },
  };
}

/** The folding loop. */
export type RollupWorker = ReturnType<typeof createRollupWorker>;
