/** Pure rules of pairing: which row ids, time and version a request and its response become. */
import { InvalidEventError } from "./errors.js";
import type { RequestPart, ResponsePart } from "./protocol.js";

/** A stored pair (or half) as the pairing rules read it. */
export interface HalvesRow {
  eventId: string;
  request: RequestPart | null;
  requestTime: Date | null;
  response: ResponsePart | null;
  responseTime: Date | null;
  receivedAt: Date;
  pairedAt: Date | null;
  expiredAt: Date | null;
}

/** A prediction row in the body shape of `POST /api/v1/models/:model/predictions`. */
export interface PredictionBody {
  id: string;
  ts: string;
  model_version: string;
  prediction: number | string;
  confidence: number | null;
  features: Record<string, number | string | null>;
}

/**
 * The id of instance `i` of `n` logged under `eventId`: the `ce-id` itself for a single instance
 * (so labels can be sent under the request id the caller knows), `<ce-id>#<i>` in a batch. Being
 * derived from the event alone, a redelivered event maps to the same ids and is stored once.
 */
export function rowId(eventId: string, i: number, n: number): string {
  return n === 1 ? eventId : `${eventId}#${i}`;
}

/**
 * The prediction time: the request's `ce-time`, else the response's, else when the first half
 * arrived. Every input is stored with the pair, so a retry of the pairing picks the same time
 * (the predictions' key holds it, so a different time would store a replay twice).
 */
export function pairTime(row: HalvesRow): Date {
  return row.requestTime ?? row.responseTime ?? row.receivedAt;
}

/** The prediction rows of a complete pair; throws when request and response do not match. */
export function pairRows(row: HalvesRow, fallbackVersion: string): PredictionBody[] {
  const { request, response } = row;
  if (!request || !response) throw new Error("pairRows needs both halves");
  const n = request.rows.length;
  if (response.rows.length !== n)
    throw new InvalidEventError(
      `the request of ce-id ${row.eventId} has ${n} instance(s) and its response ${response.rows.length} prediction(s)`,
    );
  const ts = pairTime(row).toISOString();
  const version = response.version ?? fallbackVersion;
  return request.rows.map((features, i) => {
    const out = response.rows[i] as ResponsePart["rows"][number];
    return {
      id: rowId(row.eventId, i, n),
      ts,
      model_version: version,
      prediction: out.p,
      confidence: out.c,
      features,
    };
  });
}
