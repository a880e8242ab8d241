/** What the on-call domain needs from outside for schedules fetched from a URL. */
import type { Db } from "../db/index.js";

/** What a conditional GET of a calendar came to: the feed and its ETag, or "not modified" (304). */
export type CalendarFetch =
  | { notModified: true }
  | { notModified?: false; text: string; etag: string | null };

/**
 * Fetches a calendar's text from its URL, sending `etag` as If-None-Match when given; rejects on a
 * network error, a non-2xx answer (other than 304) or a timeout, with a message that never
 * contains the URL (it may hold a secret token).
 */
export type CalendarFetcher = (url: string, etag?: string | null) => Promise<CalendarFetch>;

/** A message to the alert channel about a schedule's feed (queued through the outbox). */
export type CalendarAlert = (tx: Db, text: string) => Promise<void>;
