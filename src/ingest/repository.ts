import { sql } from "drizzle-orm";
import { type Db, resultRows } from "../db/client.js";
import type { StoredRow } from "./model.js";

/**
 * The only code writing `predictions` and `reference_samples` rows. A whole batch is one
 * statement: the rows travel as one JSON parameter that `json_to_recordset` turns into a set, so
 * the batch is stored entirely or not at all and a replayed id is skipped by the primary key.
 */
export function createIngestRepository(db: Db) {
  return {
    /** Inserts a batch (the JSON of its stored rows); returns how many were new (replayed ids are skipped). */
    async insertPredictions(modelId: number, rowsJson: string): Promise<number> {
      const result = await db.execute(sql`
        with ins as (
          insert into predictions (model_id, request_id, ts, model_version, prediction, confidence, num, cat, extra)
          select ${modelId}, r.i, r.t, r.v, r.p, r.c, r.n, r.k, r.x
          from json_to_recordset(${rowsJson}::json)
            as r(i text, t timestamptz, v text, p text, c float8, n float8[], k text[], x jsonb)
          on conflict (model_id, request_id) do nothing
          returning 1
        )
        select count(*)::int as n from ins`);
      return resultRows<{ n: number }>(result)[0]?.n ?? 0;
    },
    /** Sets the label of stored predictions by request id; returns how many matched. */
    async setLabels(modelId: number, labels: { i: string; l: string }[], at: Date): Promise<number> {
      const result = await db.execute(sql`
        with upd as (
          update predictions p set label = l.l, labelled_at = ${at.toISOString()}::timestamptz
          from (select distinct on (i) i, l from json_to_recordset(${JSON.stringify(labels)}::json) as r(i text, l text)) l
          where p.model_id = ${modelId} and p.request_id = l.i
          returning 1
        )
        select count(*)::int as n from upd`);
      return resultRows<{ n: number }>(result)[0]?.n ?? 0;
    },
    /** Stages a labelled reference upload under `uploadId`. */
    async insertSamples(uploadId: number, modelId: number, rows: StoredRow[]): Promise<void> {
      await db.execute(sql`
        insert into reference_samples (upload_id, model_id, request_id, ts, model_version, prediction, confidence, num, cat, extra, label)
        select ${uploadId}, ${modelId}, r.i, r.t, r.v, r.p, r.c, r.n, r.k, r.x, r.l
        from json_to_recordset(${JSON.stringify(rows)}::json)
          as r(i text, t timestamptz, v text, p text, c float8, n float8[], k text[], x jsonb, l text)`);
    },
    async deleteSamples(uploadId: number): Promise<void> {
      await db.execute(sql`delete from reference_samples where upload_id = ${uploadId}`);
    },
  };
}
