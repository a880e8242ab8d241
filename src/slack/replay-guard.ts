import { SIGNATURE_WINDOW_SECONDS } from "./signature.js";

/** Signatures remembered at once; past this the oldest are forgotten (bounded memory under a flood). */
export const MAX_REMEMBERED_SIGNATURES = 100_000;

/**
 * Remembers the signatures of accepted Slack requests for as long as their timestamp is inside the
 * signature window, so the same signed request is acted on once per process: a captured request
 * replayed inside Slack's 5-minute window is acknowledged and dropped. Per process (a replay sent
 * to another replica is not caught), and with more than `max` requests in a window the oldest are
 * forgotten early.
 */
export class ReplayGuard {
  // signature → when it leaves the window (seconds); Map order is insertion order, so roughly by time.
  readonly #seen = new Map<string, number>();

  constructor(private readonly max = MAX_REMEMBERED_SIGNATURES) {}

  /** True the first time `signature` (of a request stamped `timestampSeconds`) is seen; false for a replay. */
  firstUse(signature: string, timestampSeconds: number, nowSeconds: number): boolean {
    this.#prune(nowSeconds);
    if (this.#seen.has(signature)) return false;
    if (this.#seen.size >= this.max) {
      const oldest = this.#seen.keys().next().value;
      if (oldest !== undefined) this.#seen.delete(oldest);
    }
    this.#seen.set(signature, timestampSeconds + SIGNATURE_WINDOW_SECONDS);
    return true;
  }

  /** Drops entries from the front while they are out of the window (amortised O(1)). */
  #prune(nowSeconds: number): void {
    for (const [signature, until] of this.#seen) {
      if (until >= nowSeconds) break;
      this.#seen.delete(signature);
    }
  }

  get size(): number {
    return this.#seen.size;
  }
}
