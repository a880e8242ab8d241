/** Failed attempts a client address may make per window before it is refused. */
export const FAILED_AUTH_LIMIT = 20;
/** The window over which failed attempts are counted. */
export const FAILED_AUTH_WINDOW_MS = 60_000;
/** Addresses tracked at once; past this the oldest entries are dropped (bounded memory under a spray). */
const MAX_TRACKED = 10_000;

/**
 * Counts failed authentications per client address in fixed windows. In memory, per process: with
 * N replicas a guesser gets N times the budget, which still caps guessing at a few per second
 * against 160-bit tokens. Successful requests are never counted or refused here.
 */
export class FailedAuthLimiter {
  readonly #entries = new Map<string, { count: number; resetAt: number }>();

  constructor(
    private readonly limit = FAILED_AUTH_LIMIT,
    private readonly windowMs = FAILED_AUTH_WINDOW_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records one failed attempt by `key`. */
  fail(key: string): void {
    const now = this.now();
    const entry = this.#entries.get(key);
    if (entry && entry.resetAt > now) {
      entry.count += 1;
      return;
    }
    if (entry) this.#entries.delete(key);
    else if (this.#entries.size >= MAX_TRACKED) {
      // Maps iterate in insertion order: the first key is the oldest window.
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    this.#entries.set(key, { count: 1, resetAt: now + this.windowMs });
  }

  /** How long `key` is still refused, in ms; 0 when it may try. */
  blockedFor(key: string): number {
    const entry = this.#entries.get(key);
    if (!entry) return 0;
    const left = entry.resetAt - this.now();
    if (left <= 0) {
      this.#entries.delete(key);
      return 0;
    }
    return entry.count >= this.limit ? left : 0;
  }
}
