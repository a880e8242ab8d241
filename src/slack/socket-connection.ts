import type { SocketModeClient } from "@slack/socket-mode";
import type { Logger } from "../shared/logger.js";

/** `apps.connections.open` answers that no retry can fix: the app-level token is wrong. */
const REFUSED = new Set([
  "not_authed",
  "invalid_auth",
  "account_inactive",
  "token_revoked",
  "not_allowed_token_type",
  "team_disabled",
]);

/** How the connection backs off between failed attempts. */
export interface ReconnectPolicy {
  /** The second attempt waits about this long; each later one twice the one before. Default 1 s. */
  baseMs: number;
  /** No wait is longer than this. Default 30 s. */
  maxMs: number;
}

const DEFAULT_POLICY: ReconnectPolicy = { baseMs: 1_000, maxMs: 30_000 };

/**
 * The wait before reconnect attempt `attempt` (1-based): none for the first (a `disconnect` from
 * Slack asks for a new connection at once), then exponential with jitter (half to all of
 * base·2^(n−2), capped), so many replicas that lost Slack together do not return in step.
 */
export function reconnectDelayMs(attempt: number, policy = DEFAULT_POLICY, random = Math.random): number {
  if (attempt <= 1) return 0;
  const full = Math.min(policy.maxMs, policy.baseMs * 2 ** (attempt - 2));
  return Math.round(full * (0.5 + random() / 2));
}

/** The Slack error code of a failed Web API call, if it has one. */
function slackError(err: unknown): string | undefined {
  return (err as { data?: { error?: string } } | undefined)?.data?.error;
}

/** A failure's message for the log (the client rejects with `undefined` when a socket closes before hello). */
function reason(err: unknown): string {
  return err instanceof Error ? err.message : "the connection closed before Slack said hello";
}

/**
 * Keeps one Socket Mode connection open. The client's own reconnection is off: in
 * @slack/socket-mode 3.1 it waits 5 s before the first try, and when `apps.connections.open` fails
 * with a network or HTTP error during a reconnect it stops for good with an unhandled rejection
 * (which ends a Node process). Here every lost connection is retried, with backoff, until `stop`.
 */
export class SocketConnection {
  #stopping = false;
  #reconnecting = false;
  #wake: (() => void) | undefined;

  constructor(
    private readonly client: SocketModeClient,
    private readonly logger: Logger,
    private readonly policy: ReconnectPolicy = DEFAULT_POLICY,
  ) {
    client.on("disconnected", () => {
      if (!this.#stopping) void this.#reconnect();
    });
  }

  /**
   * Opens the connection and resolves once Slack said hello. A refused app-level token fails
   * (the start must stop); Slack being unreachable does not: the connection keeps being retried.
   */
  async start(): Promise<void> {
    this.#stopping = false;
    try {
      await this.client.start();
    } catch (err) {
      const code = slackError(err);
      if (code && REFUSED.has(code))
        throw new Error(`SLACK_APP_TOKEN was refused by Slack (${code}); check the app-level token`);
      this.logger.warn({ err: reason(err) }, "could not open the Socket Mode connection; retrying");
      void this.#reconnect();
    }
  }

  /** Closes the connection and stops retrying. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#wake?.();
    await this.client.disconnect();
  }

  async #reconnect(): Promise<void> {
    if (this.#reconnecting) return;
    this.#reconnecting = true;
    try {
      for (let attempt = 1; !this.#stopping; attempt++) {
        const wait = reconnectDelayMs(attempt, this.policy);
        if (attempt === 1) this.logger.warn("Socket Mode connection closed; reconnecting");
        if (wait) await this.#sleep(wait);
        if (this.#stopping) return;
        try {
          await this.client.start();
          return;
        } catch (err) {
          const code = slackError(err);
          this.logger[code && REFUSED.has(code) ? "error" : "warn"](
            { attempt, code, err: reason(err) },
            "Socket Mode reconnect failed; trying again",
          );
        }
      }
    } finally {
      this.#reconnecting = false;
    }
  }

  /** Waits `ms`, or less when `stop` is called meanwhile. */
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    });
  }
}
