/**
 * Reads and pins the embedding sample (table `embedding_samples`, written at ingest): the vectors
 * a reference's embedding fit comes from, and the two sides the domain classifier compares.
 */
import { sql } from "drizzle-orm";
import { type Db, resultRows } from "../db/client.js";

/** The ring of vectors sampled at ingest. */
export const RECENT_POOL = 0;

/**
 * The ingest sample's budget: at most this many vectors per minute of prediction time, so that
 * `embedding_sample` vectors span at least one monitor window (`window`, ms).
 */
export function samplePerMinute(cfg: { embedding_sample: number; window: number }): number {
  return Math.max(1, Math.ceil(cfg.embedding_sample / Math.max(1, cfg.window / 60_000)));
}

function decode(b64: string): Float32Array {
  const bytes = Buffer.from(b64, "base64");
  // Copied into an aligned buffer: a Buffer's offset in Node's pool need not be a multiple of 4.
  const out = new Float32Array(bytes.length / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

/** The embedding sample repository. */
export function createEmbeddingSampleRepository(db: Db) {
  const read = async (q: ReturnType<typeof sql>) =>
    resultRows<{ ts: string | Date; v: string }>(await db.execute(q)).map((r) => ({
      ts: new Date(r.ts),
      vector: decode(r.v),
    }));
  return {
    /** The ring's vectors of [from, to), oldest first, at most `limit` (the newest kept). */
    async recent(modelId: number, feature: string, from: Date, to: Date, limit: number) {
      const rows = await read(sql`
        select ts, encode(vector, 'base64') as v from embedding_samples
        where model_id = ${modelId} and feature = ${feature} and pool = ${RECENT_POOL}
          and ts >= ${from.toISOString()}::timestamptz and ts < ${to.toISOString()}::timestamptz
        order by ts desc limit ${limit}`);
      return rows.reverse();
    },
    /** The vectors pinned for reference profile `profileId`, oldest first. */
    async pinned(modelId: number, feature: string, profileId: number) {
      return read(sql`
        select ts, encode(vector, 'base64') as v from embedding_samples
        where model_id = ${modelId} and feature = ${feature} and pool = ${profileId}
        order by ts, slot`);
    },
    /** How many vectors the ring holds for a feature, and the time they span. */
    async ringSpan(modelId: number, feature: string) {
      const [row] = resultRows<{ n: number; first: string | Date | null; last: string | Date | null }>(
        await db.execute(sql`
          select count(*)::int as n, min(ts) as first, max(ts) as last from embedding_samples
          where model_id = ${modelId} and feature = ${feature} and pool = ${RECENT_POOL}`),
      );
      return {
        n: Number(row?.n ?? 0),
        first: row?.first ? new Date(row.first) : null,
        last: row?.last ? new Date(row.last) : null,
      };
    },
    /**
     * Pins a reference's vectors under its profile id (the same ones its fit was made from) and
     * drops the pools of the model's earlier references: one reference pool per model is kept.
     */
    async pin(
      modelId: number,
      profileId: number,
      vectors: readonly { feature: string; ts: Date; vector: Float32Array }[],
    ): Promise<void> {
      await db.transaction(async (tx) => {
        await tx.execute(sql`
          delete from embedding_samples where model_id = ${modelId} and pool <> ${RECENT_POOL} and pool <> ${profileId}`);
        for (let start = 0; start < vectors.length; start += 2000) {
          const chunk = vectors.slice(start, start + 2000).map((v, i) => ({
            f: v.feature,
            s: start + i,
            t: v.ts.toISOString(),
            b: Buffer.from(v.vector.buffer, v.vector.byteOffset, v.vector.byteLength).toString("base64"),
          }));
          await tx.execute(sql`
            insert into embedding_samples (model_id, feature, pool, slot, ts, vector)
            select ${modelId}, r.f, ${profileId}, r.s, r.t, decode(r.b, 'base64')
            from json_to_recordset(${JSON.stringify(chunk)}::json) as r(f text, s int, t timestamptz, b text)
            on conflict do nothing`);
        }
      });
    },
  };
}

/** The embedding sample repository. */
export type EmbeddingSampleRepository = ReturnType<typeof createEmbeddingSampleRepository>;
