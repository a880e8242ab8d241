/** postgres.js and Node codes for a connection that is refused, lost or not yet possible. */
const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
  "CONNECT_TIMEOUT",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  // SQLSTATE: the server is shutting down, crashed, or still starting.
  "57P01",
  "57P02",
  "57P03",
]);

/**
 * Whether `err` (or what it wraps: drizzle puts the driver's error in `cause`) means the database
 * cannot be reached right now, as opposed to a query that is wrong. Callers answer 503 for these:
 * the request may succeed when retried, and nothing of it was written.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e = err, depth = 0; e && typeof e === "object" && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && (CONNECTION_CODES.has(code) || code.startsWith("08"))) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
