import { sql } from "drizzle-orm";
import { type Db, resultRows } from "../db/client.js";
import { type AnyRollup, decodeRollup } from "./format.js";
import { DEFAULT_MAX_CATEGORIES, emptyRollup, hourOf, mergeRollup, type RollupData } from "./model.js";

/** Arbitrary fixed advisory-lock key: one folder at a time across replicas. */
const FOLD_LOCK_KEY = 0x726f6c6c; // "roll"
const MINUTE = 60_000;
const HOUR = 3_600_000;

/** A delta to record: one (model version, minute) of aggregates. */
export interface RollupDelta {
  version: string;
  bucket: Date;
  data: RollupData;
  segment?: string;
}

/** What a window reads: a model's buckets in [from, to), optionally of one version or segment. */
export interface RollupWindow {
  modelId: number;
  from: Date;
  to: Date;
  version?: string;
  segment?: string;
}

/** One bucket of a window: its start and the merged aggregates of every version in it. */
export interface WindowBucket {
  bucket: number;
  data: RollupData;
}

const ceilTo = (ms: number, unit: number) => Math.ceil(ms / unit) * unit;
const floorTo = (ms: number, unit: number) => Math.floor(ms / unit) * unit;

/**
 * Which buckets a window reads: every minute bucket whose start lies in [from, to), taken from
 * whole hour rollups where all 60 minutes of an hour qualify and from minute rollups at the edges.
 * `tailHour` is the hour that starts inside the window and ends after it (null when the window
 * ends on the hour): its minutes [tailHour, minuteTo) may be read from its hour rollup instead.
 */
export function windowPlan(
  from: Date,
  to: Date,
): { minuteFrom: number; minuteTo: number; hourFrom: number; hourTo: number; tailHour: number | null } {
  const minuteFrom = ceilTo(from.getTime(), MINUTE);
  const minuteTo = ceilTo(to.getTime(), MINUTE);
  const hourFrom = ceilTo(minuteFrom, HOUR);
  const hourTo = Math.max(hourFrom, floorTo(minuteTo, HOUR));
  const tail = floorTo(minuteTo, HOUR);
  const tailHour = tail >= minuteFrom && tail < minuteTo ? tail : null;
  return { minuteFrom, minuteTo, hourFrom, hourTo, tailHour };
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The only code touching `rollups` and `rollup_deltas`. */
export function createRollupRepository(db: Db, opts: { maxCategories?: number } = {}) {
  const cap = opts.maxCategories ?? DEFAULT_MAX_CATEGORIES;
  return {
    /** Records deltas (in the caller's transaction when `tx` is given). */
    async insertDeltas(tx: Db, modelId: number, deltas: Iterable<RollupDelta>): Promise<void> {
      const rows = [...deltas].map((d) => ({
        s: d.segment ?? "",
        b: d.bucket.toISOString(),
        v: d.version,
        d: d.data,
      }));
      if (rows.length === 0) return;
      await tx.execute(sql`
        insert into rollup_deltas (model_id, segment, bucket, model_version, data)
        select ${modelId}, r.s, r.b, r.v, r.d
        from json_to_recordset(${JSON.stringify(rows)}::json) as r(s text, b timestamptz, v text, d json)`);
    },

    /**
     * Folds up to `limit` deltas into the minute and hour rollups, in one transaction that also
     * deletes them, so a reader (which adds unfolded deltas) never counts one twice or misses it.
     * One folder at a time: returns 0 at once when another replica holds the lock.
     */
    async fold(limit = 5000): Promise<number> {
      return db.transaction(async (tx) => {
        const [lock] = resultRows<{ ok: boolean }>(
          await tx.execute(sql`select pg_try_advisory_xact_lock(${FOLD_LOCK_KEY}) as ok`),
        );
        if (!lock?.ok) return 0;
        const deltas = resultRows<{
          model_id: number;
          segment: string;
          bucket: string | Date;
          model_version: string;
          data: AnyRollup;
        }>(
          await tx.execute(sql`
            delete from rollup_deltas where id in (select id from rollup_deltas order by id limit ${limit})
            returning model_id, segment, bucket, model_version, data`),
        );
        if (deltas.length === 0) return 0;
        const merged = new Map<
          string,
          { m: number; s: string; g: "minute" | "hour"; b: number; v: string; data: RollupData }
        >();
        for (const d of deltas) {
          const data = decodeRollup(d.data);
          const minute = new Date(d.bucket).getTime();
          for (const [grain, b] of [
            ["minute", minute],
            ["hour", hourOf(new Date(minute)).getTime()],
          ] as const) {
            const key = `${d.model_id}\u0000${d.segment}\u0000${grain}\u0000${b}\u0000${d.model_version}`;
            let entry = merged.get(key);
            if (!entry) {
              entry = { m: d.model_id, s: d.segment, g: grain, b, v: d.model_version, data: emptyRollup() };
              merged.set(key, entry);
            }
            mergeRollup(entry.data, data, cap);
          }
        }
        const keys = [...merged.values()];
        const existing = resultRows<{
          model_id: number;
          segment: string;
          grain: string;
          bucket: string | Date;
          model_version: string;
          data: AnyRollup;
        }>(
          await tx.execute(sql`
            select r.model_id, r.segment, r.grain, r.bucket, r.model_version, r.data
            from json_to_recordset(${JSON.stringify(keys.map((k) => ({ m: k.m, s: k.s, g: k.g, b: iso(k.b), v: k.v })))}::json)
              as k(m int, s text, g text, b timestamptz, v text)
            -- One primary-key probe per key (a join could scan every rollup ever kept).
            cross join lateral (
              select * from rollups r
              where r.model_id = k.m and r.segment = k.s and r.grain = k.g and r.bucket = k.b and r.model_version = k.v
              for update
            ) r`),
        );
        for (const e of existing) {
          const key = `${e.model_id}\u0000${e.segment}\u0000${e.grain}\u0000${new Date(e.bucket).getTime()}\u0000${e.model_version}`;
          const entry = merged.get(key);
          if (entry) entry.data = mergeRollup(decodeRollup(e.data), entry.data, cap);
        }
        await tx.execute(sql`
          insert into rollups (model_id, segment, grain, bucket, model_version, rows, data, updated_at)
          select k.m, k.s, k.g, k.b, k.v, k.r, k.d, now()
          from json_to_recordset(${JSON.stringify(keys.map((k) => ({ m: k.m, s: k.s, g: k.g, b: iso(k.b), v: k.v, r: k.data.rows, d: k.data })))}::json)
            as k(m int, s text, g text, b timestamptz, v text, r bigint, d json)
          on conflict (model_id, segment, grain, bucket, model_version)
          do update set rows = excluded.rows, data = excluded.data, updated_at = now()`);
        return deltas.length;
      });
    },

    /** Deltas not folded yet, and the age in seconds of the oldest (the rollup lag). */
    async lag(): Promise<{ pending: number; oldestSeconds: number }> {
      const [r] = resultRows<{ n: number; age: number | null }>(
        await db.execute(
          sql`select count(*)::int as n, extract(epoch from now() - min(created_at))::float8 as age from rollup_deltas`,
        ),
      );
      return { pending: r?.n ?? 0, oldestSeconds: Math.max(0, r?.age ?? 0) };
    },

    /** The window's buckets, oldest first, each the merge of its versions (or the one asked for). */
    async window(w: RollupWindow): Promise<WindowBucket[]> {
      const p = windowPlan(w.from, w.to);
      const segment = w.segment ?? "";
      const version = w.version ? sql` and model_version = ${w.version}` : sql``;
      const hours =
        p.hourTo > p.hourFrom
          ? sql`(grain = 'hour' and bucket >= ${iso(p.hourFrom)}::timestamptz and bucket < ${iso(p.hourTo)}::timestamptz)
              or (grain = 'minute' and bucket >= ${iso(p.minuteFrom)}::timestamptz and bucket < ${iso(p.minuteTo)}::timestamptz
                  and not (bucket >= ${iso(p.hourFrom)}::timestamptz and bucket < ${iso(p.hourTo)}::timestamptz))`
          : sql`(grain = 'minute' and bucket >= ${iso(p.minuteFrom)}::timestamptz and bucket < ${iso(p.minuteTo)}::timestamptz)`;
      // A window ending now reads the minutes of the hour in progress; that hour's rollup holds
      // exactly them (one document instead of up to 59) when nothing of it lies at or after the
      // window's end, which is when its rows equal those of its minutes before the end: every
      // fold writes a delta into both grains, and a bucket with anything in it (labels attach
      // to a prediction's bucket) has rows. Decided per version, on the `rows` column, so no
      // document is read to decide.
      const t = p.tailHour === null ? null : iso(p.tailHour);
      const tail = t
        ? {
            with: sql`with tail as (
              select h.model_version from rollups h
              where h.model_id = ${w.modelId} and h.segment = ${segment} and h.grain = 'hour' and h.bucket = ${t}::timestamptz
                and h.rows = (select coalesce(sum(m.rows), 0) from rollups m
                  where m.model_id = h.model_id and m.segment = h.segment and m.grain = 'minute'
                    and m.model_version = h.model_version
                    and m.bucket >= ${t}::timestamptz and m.bucket < ${iso(p.minuteTo)}::timestamptz))
            `,
            hour: sql` or (grain = 'hour' and bucket = ${t}::timestamptz and model_version in (select model_version from tail))`,
            minutes: sql` and not (grain = 'minute' and bucket >= ${t}::timestamptz and model_version in (select model_version from tail))`,
          }
        : { with: sql``, hour: sql``, minutes: sql`` };
      // One statement, so one snapshot: a delta is either still in rollup_deltas or already in
      // rollups, never both and never neither, whatever the folder does meanwhile.
      const rows = resultRows<{ bucket: string | Date; data: AnyRollup }>(
        await db.execute(sql`
          ${tail.with}select bucket, data from rollups
          where model_id = ${w.modelId} and segment = ${segment}${version}
            and ((${hours})${tail.hour})${tail.minutes}
          union all
          select bucket, data from rollup_deltas
          where model_id = ${w.modelId} and segment = ${segment}${version}
            and bucket >= ${iso(p.minuteFrom)}::timestamptz and bucket < ${iso(p.minuteTo)}::timestamptz`),
      );
      const byBucket = new Map<number, RollupData>();
      for (const r of rows) {
        const b = new Date(r.bucket).getTime();
        const into = byBucket.get(b);
        const data = decodeRollup(r.data);
        byBucket.set(b, into ? mergeRollup(into, data, cap) : data);
      }
      return [...byBucket.entries()].sort((a, b) => a[0] - b[0]).map(([bucket, data]) => ({ bucket, data }));
    },

    /** Every segment key a model has rollups of (seeds the segment value cap at start). */
    async segmentKeys(modelId: number): Promise<string[]> {
      return resultRows<{ s: string }>(
        await db.execute(sql`select distinct segment as s from rollups
          where model_id = ${modelId} and segment <> '' and grain = 'hour'
          union select distinct segment from rollup_deltas where model_id = ${modelId} and segment <> ''`),
      ).map((r) => r.s);
    },

    /** The segments with data in [from, to) (hour rollups cover every minute folded into them). */
    async segmentsIn(modelId: number, from: Date, to: Date): Promise<string[]> {
      return resultRows<{ s: string }>(
        await db.execute(sql`select distinct segment as s from rollups
          where model_id = ${modelId} and segment <> '' and grain = 'hour'
            and bucket >= ${iso(floorTo(from.getTime(), HOUR))}::timestamptz and bucket < ${to.toISOString()}::timestamptz
          union select distinct segment from rollup_deltas
          where model_id = ${modelId} and segment <> ''
            and bucket >= ${iso(floorTo(from.getTime(), MINUTE))}::timestamptz and bucket < ${to.toISOString()}::timestamptz
          order by 1`),
      ).map((r) => r.s);
    },

    /** Whether a model has any rollup or delta (it has sent predictions at some time). */
    async hasAny(modelId: number): Promise<boolean> {
      const [r] = resultRows<{ any: boolean }>(
        await db.execute(sql`select exists (select 1 from rollups where model_id = ${modelId})
          or exists (select 1 from rollup_deltas where model_id = ${modelId}) as any`),
      );
      return r?.any === true;
    },

    /** The newest bucket with data of a model (its last ingest, to the minute), or null. */
    async lastBucket(modelId: number): Promise<Date | null> {
      const [r] = resultRows<{ b: string | Date | null }>(
        await db.execute(sql`select greatest(
            (select max(bucket) from rollups where model_id = ${modelId} and segment = '' and grain = 'minute'),
            (select max(bucket) from rollup_deltas where model_id = ${modelId})) as b`),
      );
      return r?.b ? new Date(r.b) : null;
    },

    /** Deletes rollups of `grain` older than `before`; returns how many. */
    async trim(grain: "minute" | "hour", before: Date): Promise<number> {
      const [r] = resultRows<{ n: number }>(
        await db.execute(sql`with d as (delete from rollups where grain = ${grain} and bucket < ${before.toISOString()}::timestamptz returning 1)
          select count(*)::int as n from d`),
      );
      return r?.n ?? 0;
    },
  };
}

/** The rollup repository. */
export type RollupRepository = ReturnType<typeof createRollupRepository>;
