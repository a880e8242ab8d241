/** What the on-call domain needs from outside for schedules fetched from a URL. */

/** Fetches a calendar's text from its URL; rejects on a network error, a non-2xx answer or a timeout. */
export type CalendarFetcher = (url: string) => Promise<string>;

/** Keeps the last good copy of each fetched calendar, so a restart while the URL is down still knows who is on call. */
export interface CalendarCache {
  /** The stored copy of schedule `name`, if any. */
  read(name: string): string | undefined;
  /** Replaces the stored copy of schedule `name`. */
  write(name: string, text: string): Promise<void>;
}
