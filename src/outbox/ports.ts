import type { OutboxMethod } from "./model.js";

/** One write as the transport sends it: the stored arguments plus where it hangs. */
export interface Delivery {
  outboxId: number;
  method: OutboxMethod;
  channel: string;
  payload: Record<string, unknown>;
  /** For replies: the parent's delivered ts. */
  threadTs?: string;
  /** For edits: the ts of the message to change. */
  ts?: string;
}

/** What became of one delivery attempt; the dispatcher decides what happens next from it. */
export type DeliveryOutcome =
  | { kind: "delivered"; ts?: string | undefined; channel?: string | undefined }
  /** Slack said slow down (HTTP 429); try again after Retry-After. */
  | { kind: "rate_limited"; retryAfterMs: number }
  /** 5xx, a network error or a timeout: try again with backoff. */
  | { kind: "unavailable"; error: string }
  /** Slack refused it for good (`ok: false`, e.g. channel_not_found): never retried. */
  | { kind: "rejected"; error: string }
  /**
   * Slack refused the bot itself (`invalid_auth`, `token_revoked`, `missing_scope`…): nothing can
   * be delivered until that is fixed, so the dispatcher pauses instead of failing the row.
   */
  | { kind: "workspace_error"; code: string; error: string };

/** Sends outbox rows to Slack; the Slack layer provides it. */
export interface OutboxTransport {
  deliver(delivery: Delivery): Promise<DeliveryOutcome>;
  /**
   * Looks in Slack for a post this row made in an attempt whose outcome is unknown (the process
   * died after sending, before recording it); resolves with where it landed, or undefined when it
   * is not there. `since` bounds the search. Rejects when Slack cannot be asked.
   */
  findDelivered?(delivery: Delivery, since: Date): Promise<{ ts: string; channel: string } | undefined>;
  /**
   * Checks that Slack accepts the bot again (`auth.test`) while the dispatcher is paused by a
   * workspace-wide error; resolves when it does, rejects with the reason when not.
   */
  probe?(): Promise<void>;
}
