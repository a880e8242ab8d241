/** Envelopes remembered at once; past this the oldest are forgotten (bounded memory under a flood). */
export const MAX_REMEMBERED_ENVELOPES = 10_000;

/** How long an envelope id is remembered: Slack redelivers an unacknowledged envelope well within it. */
export const ENVELOPE_TTL_MS = 30 * 60 * 1000;

interface Entry {
  expiresAt: number;
  /** Settles with what the first delivery was acknowledged with. */
  ack: Promise<unknown>;
}

/**
 * Remembers the Socket Mode envelopes this process has taken, by `envelope_id`, with the payload
 * their first delivery was acknowledged with. Slack redelivers an envelope whose ack it did not get
 * (the connection closed first); the redelivery is then acknowledged with the same payload and not
 * handled again. Bounded (LRU by arrival) and expiring; per process, like the HTTP ReplayGuard.
 */
export class EnvelopeDedupe {
  // envelope id → entry; Map order is insertion order, so oldest first.
  readonly #seen = new Map<string, Entry>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly max = MAX_REMEMBERED_ENVELOPES,
    private readonly ttlMs = ENVELOPE_TTL_MS,
  ) {}

  /**
   * The first time `envelopeId` is seen: records it and returns a function to call with the ack
   * payload. Afterwards (a redelivery): returns the first delivery's ack payload, which may still
   * be on its way.
   */
  take(
    envelopeId: string,
  ): { first: true; acked: (payload: unknown) => void } | { first: false; ack: Promise<unknown> } {
    this.#prune();
    const seen = this.#seen.get(envelopeId);
    if (seen) return { first: false, ack: seen.ack };
    if (this.#seen.size >= this.max) {
      const oldest = this.#seen.keys().next().value;
      if (oldest !== undefined) this.#seen.delete(oldest);
    }
    let acked!: (payload: unknown) => void;
    const ack = new Promise<unknown>((resolve) => {
      acked = resolve;
    });
    this.#seen.set(envelopeId, { expiresAt: this.now() + this.ttlMs, ack });
    return { first: true, acked };
  }

  /** Drops entries from the front while they are expired (amortised O(1)). */
  #prune(): void {
    const now = this.now();
    for (const [id, entry] of this.#seen) {
      if (entry.expiresAt > now) break;
      this.#seen.delete(id);
    }
  }

  /** Envelopes remembered now. */
  get size(): number {
    return this.#seen.size;
  }
}
