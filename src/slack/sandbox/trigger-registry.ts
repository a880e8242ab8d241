import { randomToken } from "./ids.js";

/** How long a trigger_id can be exchanged for a modal. */
export const TRIGGER_TTL_MS = 3000;

/** The result of exchanging a trigger_id: the user it was issued to, or Slack's error code. */
export type TriggerExchange =
  | { ok: true; userId: string }
  | { ok: false; error: "invalid_trigger_id" | "expired_trigger_id" | "exchanged_trigger_id" };

interface TriggerRecord {
  userId: string;
  issuedAt: number;
  used: boolean;
}

/** Issues trigger_ids with interaction payloads and exchanges each at most once within 3 s. */
export class TriggerRegistry {
  readonly #triggers = new Map<string, TriggerRecord>();
  readonly #clock: () => number;
  #counter = 0;

  constructor(clock: () => number) {
    this.#clock = clock;
  }

  /** Issues a fresh trigger_id for a user's interaction. */
  issue(userId: string): string {
    this.#counter += 1;
    const id = `${this.#counter}.${Math.floor(this.#clock() / 1000)}.${randomToken(16)}`;
    this.#triggers.set(id, { userId, issuedAt: this.#clock(), used: false });
    return id;
  }

  /** Exchanges a trigger_id (single use, valid for 3 s). */
  exchange(triggerId: string): TriggerExchange {
    const record = this.#triggers.get(triggerId);
    if (!record) return { ok: false, error: "invalid_trigger_id" };
    if (record.used) return { ok: false, error: "exchanged_trigger_id" };
    if (this.#clock() - record.issuedAt > TRIGGER_TTL_MS) return { ok: false, error: "expired_trigger_id" };
    record.used = true;
    return { ok: true, userId: record.userId };
  }
}
