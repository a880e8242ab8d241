import { sql } from "drizzle-orm";
import { type Db, resultRows } from "../db/client.js";
import {
  addLabelled,
  emptyRollup,
  minuteOf,
  type RollupData,
  type RollupLayout,
  rollupBatch,
} from "../rollups/model.js";
import { createRollupRepository, type RollupDelta } from "../rollups/repository.js";
import { type SegmentSplit, segmentBatch, segmentKey } from "../rollups/segments.js";
import type { StoredRow } from "./model.js";

/** A vector sampled at ingest: batch row `row`'s vector of `feature`, for ring slot `slot`. */
export interface VectorSample {
  feature: string;
  row: number;
  slot: number;
  /** Its little-endian float32 bytes in base64. */
  base64: string;
}

const keyOf = (id: string, ts: string | Date) => `${id}\u0000${new Date(ts).getTime()}`;

/**
 * The only code writing `predictions` and `reference_samples` rows. A batch is one transaction:
 * the rows (one JSON parameter that `json_to_recordset` turns into a set, a replayed
 * (id, ts) skipped by the primary key), the labels that were waiting for them, and the rollup
 * deltas of exactly the rows that were new, so a replay is never counted twice and a crash
 * leaves rows and rollups in step.
 */
export function createIngestRepository(db: Db, opts: { maxCategories?: number } = {}) {
  const rollups = createRollupRepository(db, opts);
  return {
    /** Inserts a batch; returns how many rows were new and how many waiting labels joined them. */
    async insertPredictions(
      modelId: number,
      rows: readonly StoredRow[],
      layout: RollupLayout,
      split?: SegmentSplit,
      samples: readonly VectorSample[] = [],
    ): Promise<{ stored: number; joined: number }> {
      return db.transaction(async (tx) => {
        const inserted = resultRows<{ i: string; t: string | Date }>(
          await tx.execute(sql`
            insert into predictions (model_id, request_id, ts, model_version, prediction, confidence, num, cat, extra, probabilities)
            select ${modelId}, r.i, r.t, r.v, r.p, r.c, r.n, r.k, r.x, r.q
            from json_to_recordset(${JSON.stringify(rows)}::json)
              as r(i text, t timestamptz, v text, p text, c float8, n float8[], k text[], x jsonb, q jsonb)
            on conflict (model_id, request_id, ts) do nothing
            returning request_id as i, ts as t`),
        );
        if (inserted.length === 0) return { stored: 0, joined: 0 };
        const fresh = new Set(inserted.map((r) => keyOf(r.i, r.t)));
        // Labels that arrived before their prediction join it now.
        const waiting = resultRows<{ i: string; l: string }>(
          await tx.execute(sql`
            delete from pending_labels where model_id = ${modelId}
              and request_id in (select jsonb_array_elements_text(${JSON.stringify(inserted.map((r) => r.i))}::jsonb))
            returning request_id as i, label as l`),
        );
        const labels = new Map(waiting.map((w) => [w.i, w.l]));
        if (labels.size > 0) {
          await tx.execute(sql`
            update predictions p set label = l.l, labelled_at = now()
            from json_to_recordset(${JSON.stringify(waiting)}::json) as l(i text, l text)
            where p.model_id = ${modelId} and p.request_id = l.i`);
          await tx.execute(sql`
            insert into label_stats (model_id, joined_late) values (${modelId}, ${labels.size})
            on conflict (model_id) do update set joined_late = label_stats.joined_late + excluded.joined_late`);
        }
        const newRows = rows
          .filter((r) => fresh.has(keyOf(r.i, r.t)))
          .map((r) => ({ ...r, l: labels.get(r.i) ?? null }));
        await rollups.insertDeltas(tx, modelId, [
          ...rollupBatch(newRows, layout).values(),
          ...(split?.features.length ? segmentBatch(newRows, layout, split) : []),
        ]);
        // Sampled vectors of the new rows overwrite their ring slots (a replayed row adds none), in
        // slot order: two replicas writing overlapping slots then lock them in the same order.
        const sampled = samples
          .filter((v) => {
            const r = rows[v.row];
            return r !== undefined && fresh.has(keyOf(r.i, r.t));
          })
          .sort((a, b) => (a.feature < b.feature ? -1 : a.feature > b.feature ? 1 : a.slot - b.slot));
        if (sampled.length > 0)
          await tx.execute(sql`
            insert into embedding_samples (model_id, feature, pool, slot, ts, vector)
            select ${modelId}, r.f, 0, r.s, r.t, decode(r.b, 'base64')
            from json_to_recordset(${JSON.stringify(
              sampled.map((v) => ({ f: v.feature, s: v.slot, t: rows[v.row]?.t, b: v.base64 })),
            )}::json) as r(f text, s int, t timestamptz, b text)
            on conflict (model_id, feature, pool, slot) do update set ts = excluded.ts, vector = excluded.vector`);
        return { stored: inserted.length, joined: labels.size };
      });
    },

    /**
     * Sets the labels of stored predictions by request id, moving each one's rollup cell, or its
     * regression moments for a `regression` model (a relabel takes the old label out); ids not stored (yet) wait in `pending_labels`. Returns
     * how many matched and how many wait.
     */
    async setLabels(
      modelId: number,
      labels: { i: string; l: string }[],
      at: Date,
      regression = false,
      split?: SegmentSplit,
    ): Promise<{ matched: number; pending: number }> {
      return db.transaction(async (tx) => {
        const json = JSON.stringify(labels);
        const changed = resultRows<{
          i: string;
          t: string | Date;
          v: string;
          p: string;
          c: number | null;
          old: string | null;
          l: string;
          k: (string | null)[] | null;
          q: Record<string, number> | null;
        }>(
          await tx.execute(sql`
            with l as (select distinct on (i) i, l from json_to_recordset(${json}::json) as r(i text, l text)),
            old as (
              select p.request_id, p.ts, p.label from predictions p join l on l.i = p.request_id
              where p.model_id = ${modelId} for update of p
            )
            update predictions p set label = l.l, labelled_at = ${at.toISOString()}::timestamptz
            from old join l on l.i = old.request_id
            where p.model_id = ${modelId} and p.request_id = old.request_id and p.ts = old.ts
            returning p.request_id as i, p.ts as t, p.model_version as v, p.prediction as p, p.confidence as c,
              old.label as old, p.label as l, p.cat as k, p.probabilities as q`),
        );
        const deltas = new Map<string, RollupDelta>();
        for (const r of changed) {
          if (r.old === r.l) continue;
          const bucket = minuteOf(new Date(r.t));
          // The global rollup, and the row's segments' (a label moves the same cell in each).
          const segments = [""];
          for (const f of split?.features ?? []) {
            const v = r.k?.[f.index];
            if (v !== null && v !== undefined && split)
              segments.push(segmentKey(f.name, split.valueOf(f.name, v)));
          }
          for (const segment of segments) {
            const key = `${segment}\u0000${r.v}\u0000${bucket.getTime()}`;
            let d = deltas.get(key);
            if (!d) {
              d = { version: r.v, bucket, data: emptyRollup() as RollupData, segment };
              deltas.set(key, d);
            }
            if (r.old !== null) addLabelled(d.data, r.p, r.old, r.c, regression, -1, r.q);
            addLabelled(d.data, r.p, r.l, r.c, regression, 1, r.q);
          }
        }
        await rollups.insertDeltas(tx, modelId, deltas.values());
        const matchedIds = new Set(changed.map((r) => r.i));
        const unmatched = [
          ...new Map(labels.filter((x) => !matchedIds.has(x.i)).map((x) => [x.i, x])).values(),
        ];
        if (unmatched.length > 0)
          await tx.execute(sql`
            insert into pending_labels (model_id, request_id, label, received_at)
            select ${modelId}, r.i, r.l, ${at.toISOString()}::timestamptz
            from json_to_recordset(${JSON.stringify(unmatched)}::json) as r(i text, l text)
            on conflict (model_id, request_id) do update set label = excluded.label`);
        return { matched: matchedIds.size, pending: unmatched.length };
      });
    },

    /**
     * Records pre-aggregated profiles as rollup deltas, each id once (a resent profile is skipped),
     * in one transaction; returns how many were new.
     */
    async insertProfiles(
      modelId: number,
      profiles: readonly { id: string; model_version: string; bucket: string; rollup: RollupData }[],
      at: Date,
    ): Promise<number> {
      return db.transaction(async (tx) => {
        const fresh = new Set(
          resultRows<{ id: string }>(
            await tx.execute(sql`
              insert into profile_receipts (model_id, profile_id, received_at)
              select ${modelId}, r.i, ${at.toISOString()}::timestamptz
              from json_to_recordset(${JSON.stringify(profiles.map((p) => ({ i: p.id })))}::json) as r(i text)
              on conflict do nothing
              returning profile_id as id`),
          ).map((r) => r.id),
        );
        await rollups.insertDeltas(
          tx,
          modelId,
          profiles
            .filter((p) => fresh.has(p.id))
            .map((p) => ({ version: p.model_version, bucket: new Date(p.bucket), data: p.rollup })),
        );
        return fresh.size;
      });
    },

    /**
     * Readies a model's embedding ring for this process: drops vectors the current config no
     * longer fits (a slot past `size`, or another vector length), and returns the slot the newest
     * vector sits in (-1: none yet).
     */
    async prepareRing(modelId: number, feature: string, size: number, dimensions: number): Promise<number> {
      await db.execute(sql`
        delete from embedding_samples where model_id = ${modelId} and feature = ${feature} and pool = 0
          and (slot >= ${size} or octet_length(vector) <> ${dimensions * 4})`);
      const [row] = resultRows<{ slot: number }>(
        await db.execute(sql`
          select slot from embedding_samples where model_id = ${modelId} and feature = ${feature} and pool = 0
          order by ts desc limit 1`),
      );
      return row ? Number(row.slot) : -1;
    },

    /** Stages a labelled reference upload under `uploadId`. */
    async insertSamples(uploadId: number, modelId: number, rows: StoredRow[]): Promise<void> {
      await db.execute(sql`
        insert into reference_samples (upload_id, model_id, request_id, ts, model_version, prediction, confidence, num, cat, extra, label, probabilities)
        select ${uploadId}, ${modelId}, r.i, r.t, r.v, r.p, r.c, r.n, r.k, r.x, r.l, r.q
        from json_to_recordset(${JSON.stringify(rows)}::json)
          as r(i text, t timestamptz, v text, p text, c float8, n float8[], k text[], x jsonb, l text, q jsonb)`);
    },
    async deleteSamples(uploadId: number): Promise<void> {
      await db.execute(sql`delete from reference_samples where upload_id = ${uploadId}`);
    },
  };
}
