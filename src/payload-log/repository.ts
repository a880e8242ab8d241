import { and, desc, eq, isNotNull, isNull, lt, lte, or, sql } from "drizzle-orm";
import type { Db } from "../db/index.js";
import { payloadHalves } from "../db/schema/index.js";
import type { Half } from "./event.js";
import type { HalvesRow } from "./model.js";
import type { RequestPart, ResponsePart } from "./protocol.js";

type Stored = typeof payloadHalves.$inferSelect;

function toRow(r: Stored): HalvesRow {
  return {
    eventId: r.eventId,
    request: (r.request as RequestPart | null) ?? null,
    requestTime: r.requestTime,
    response: (r.response as ResponsePart | null) ?? null,
    responseTime: r.responseTime,
    receivedAt: r.receivedAt,
    pairedAt: r.pairedAt,
    expiredAt: r.expiredAt,
  };
}

/** What became of an arriving half. */
export type Arrival = { state: "waiting" } | { state: "duplicate" } | { state: "complete"; row: HalvesRow };

/** Per-model counts for the report and the gauge. */
export interface HalvesCounts {
  modelId: number;
  waitingRequest: number;
  waitingResponse: number;
  expired: number;
}

/** The only code touching `payload_halves`. */
export function createPayloadRepository(db: Db) {
  const key = (modelId: number, eventId: string) =>
    and(eq(payloadHalves.modelId, modelId), eq(payloadHalves.eventId, eventId));
  return {
    /**
     * Records a half in one transaction. The first half of a `ce-id` inserts the row; the second
     * locks it, and `check` (which may throw to refuse the event, leaving the row as it was) sees
     * the pair before it is written. A half the row already has, or a pair already ingested, is a
     * redelivery and changes nothing.
     */
    async arrive(
      input: {
        modelId: number;
        eventId: string;
        half: Half;
        part: RequestPart | ResponsePart;
        time: Date | null;
        now: Date;
        expiresAt: Date;
      },
      check: (row: HalvesRow) => void,
    ): Promise<Arrival> {
      const fields =
        input.half === "request"
          ? { request: input.part, requestTime: input.time }
          : { response: input.part, responseTime: input.time };
      return db.transaction(async (tx) => {
        const [inserted] = await tx
          .insert(payloadHalves)
          .values({
            modelId: input.modelId,
            eventId: input.eventId,
            ...fields,
            receivedAt: input.now,
            expiresAt: input.expiresAt,
          })
          .onConflictDoNothing()
          .returning({ eventId: payloadHalves.eventId });
        if (inserted) return { state: "waiting" };
        const [existing] = await tx
          .select()
          .from(payloadHalves)
          .where(key(input.modelId, input.eventId))
          .for("update");
        if (!existing) throw new Error("payload half vanished under its lock");
        const row = toRow(existing);
        if (row.pairedAt || row[input.half] !== null) return { state: "duplicate" };
        const merged: HalvesRow =
          input.half === "request"
            ? { ...row, request: input.part as RequestPart, requestTime: input.time }
            : { ...row, response: input.part as ResponsePart, responseTime: input.time };
        check(merged);
        await tx.update(payloadHalves).set(fields).where(key(input.modelId, input.eventId));
        return { state: "complete", row: merged };
      });
    },

    /** Marks a pair ingested and drops its bodies (only its timestamps are needed from now on). */
    async markPaired(modelId: number, eventId: string, at: Date): Promise<void> {
      await db
        .update(payloadHalves)
        .set({ pairedAt: at, request: null, response: null })
        .where(key(modelId, eventId));
    },

    /** Pairs whose halves are both stored but whose rows were not ingested (a crash in between). */
    async unfinished(limit: number): Promise<{ modelId: number; row: HalvesRow }[]> {
      const rows = await db
        .select()
        .from(payloadHalves)
        .where(
          and(
            isNull(payloadHalves.pairedAt),
            isNotNull(payloadHalves.request),
            isNotNull(payloadHalves.response),
          ),
        )
        .limit(limit);
      return rows.map((r) => ({ modelId: r.modelId, row: toRow(r) }));
    },

    /** Marks lone halves whose window has passed as expired; returns them. */
    async expire(now: Date): Promise<{ modelId: number; eventId: string; half: Half }[]> {
      const rows = await db
        .update(payloadHalves)
        .set({ expiredAt: now })
        .where(
          and(
            isNull(payloadHalves.pairedAt),
            isNull(payloadHalves.expiredAt),
            lte(payloadHalves.expiresAt, now),
            // A complete pair is never unpaired: the sweep ingests it instead.
            or(isNull(payloadHalves.request), isNull(payloadHalves.response)),
          ),
        )
        .returning({
          modelId: payloadHalves.modelId,
          eventId: payloadHalves.eventId,
          hasRequest: sql<boolean>`${payloadHalves.request} is not null`,
        });
      return rows.map((r) => ({
        modelId: r.modelId,
        eventId: r.eventId,
        half: r.hasRequest ? "request" : "response",
      }));
    },

    /** Deletes rows paired, expired or received before `before`; returns how many. */
    async purge(before: Date): Promise<number> {
      const rows = await db
        .delete(payloadHalves)
        .where(
          or(
            lt(payloadHalves.pairedAt, before),
            // Unpaired halves, and pairs no sweep could store for that long (their model left the config).
            and(isNull(payloadHalves.pairedAt), lt(payloadHalves.receivedAt, before)),
          ),
        )
        .returning({ eventId: payloadHalves.eventId });
      return rows.length;
    },

    /** Halves waiting for their partner and halves that expired unpaired, by model. */
    async counts(): Promise<HalvesCounts[]> {
      const rows = await db
        .select({
          modelId: payloadHalves.modelId,
          waitingRequest: sql<number>`count(*) filter (where ${payloadHalves.expiredAt} is null and ${payloadHalves.response} is null)::int`,
          waitingResponse: sql<number>`count(*) filter (where ${payloadHalves.expiredAt} is null and ${payloadHalves.request} is null)::int`,
          expired: sql<number>`count(*) filter (where ${payloadHalves.expiredAt} is not null)::int`,
        })
        .from(payloadHalves)
        .where(isNull(payloadHalves.pairedAt))
        .groupBy(payloadHalves.modelId);
      return rows.map((r) => ({
        modelId: r.modelId,
        waitingRequest: Number(r.waitingRequest),
        waitingResponse: Number(r.waitingResponse),
        expired: Number(r.expired),
      }));
    },

    /** The most recently expired unpaired halves. */
    async recentExpired(
      limit: number,
    ): Promise<{ modelId: number; eventId: string; half: Half; receivedAt: Date; expiredAt: Date }[]> {
      const rows = await db
        .select({
          modelId: payloadHalves.modelId,
          eventId: payloadHalves.eventId,
          hasRequest: sql<boolean>`${payloadHalves.request} is not null`,
          receivedAt: payloadHalves.receivedAt,
          expiredAt: payloadHalves.expiredAt,
        })
        .from(payloadHalves)
        .where(and(isNull(payloadHalves.pairedAt), isNotNull(payloadHalves.expiredAt)))
        .orderBy(desc(payloadHalves.expiredAt))
        .limit(limit);
      return rows.map((r) => ({
        modelId: r.modelId,
        eventId: r.eventId,
        half: r.hasRequest ? "request" : "response",
        receivedAt: r.receivedAt,
        expiredAt: r.expiredAt as Date,
      }));
    },
  };
}

/** The payload-halves repository. */
export type PayloadRepository = ReturnType<typeof createPayloadRepository>;
