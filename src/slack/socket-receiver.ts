import type { App, Receiver, ReceiverEvent } from "@slack/bolt";
import { LogLevel, type Logger as SlackLogger } from "@slack/bolt";
import { SocketModeClient } from "@slack/socket-mode";
import type { Logger } from "../shared/logger.js";
import type { Metrics } from "../shared/metrics.js";
import { envelopeProblem, storableStrings } from "./envelope.js";
import { EnvelopeDedupe } from "./envelope-dedupe.js";
import { type ReconnectPolicy, SocketConnection } from "./socket-connection.js";

/** How long a redelivered envelope waits for its first delivery's ack before it is acked empty. */
const REDELIVERY_ACK_WAIT_MS = 2_500;

/** What the Socket Mode receiver needs. */
export interface SocketReceiverOptions {
  /** The app-level token (`xapp-…`); never logged. */
  appToken: string;
  /** Base URL of the Web API that serves `apps.connections.open` (Slack's, or the sandbox's). */
  apiUrl: string;
  logger: Logger;
  metrics: Metrics;
  /** Retries of one `apps.connections.open` call (default 2; tests pass 0); reconnects back off besides. */
  retries?: number;
  /** Backoff between reconnect attempts. */
  reconnect?: ReconnectPolicy;
  dedupe?: EnvelopeDedupe;
}

/** One envelope as the Socket Mode client hands it over. */
interface SlackEventArgs {
  ack: (response?: Record<string, unknown>) => Promise<void>;
  envelope_id: string;
  type: string;
  body: Record<string, unknown>;
  retry_num?: number;
  retry_reason?: string;
}

/**
 * The Socket Mode client's logger: drops its debug lines that print whole envelopes and acks (user
 * text, the verification token) and masks the connection ticket and any token in the rest (its
 * Web API client logs `apps.connections.open`'s answer, the WebSocket URL with its ticket).
 */
function socketLogger(logger: Logger): SlackLogger {
  const child = logger.child({ component: "socket-mode" });
  const quiet = /^(Received a message on the WebSocket|Sending a WebSocket message|Calling ack\(\))/;
  const mask = (msg: unknown[]) =>
    msg
      .map(String)
      .join(" ")
      .replace(/ticket=[^"\\\s&]+/g, "ticket=[redacted]")
      .replace(/\bx(app|ox[a-z])-[\w-]+/g, "[redacted]");
  return {
    debug: (...msg: unknown[]) => {
      const text = mask(msg);
      if (!quiet.test(text)) child.debug(text);
    },
    info: (...msg: unknown[]) => child.info(mask(msg)),
    warn: (...msg: unknown[]) => child.warn(mask(msg)),
    error: (...msg: unknown[]) => child.error(mask(msg)),
    setLevel: () => {},
    getLevel: () => LogLevel.INFO,
    setName: () => {},
  };
}

/** The kind of envelope, for metrics and logs (the same labels as the HTTP receiver's). */
function envelopeKind(type: string, body: Record<string, unknown>): string {
  if (type === "slash_commands") return "command";
  if (type === "events_api") return "event";
  return typeof body.type === "string" ? body.type : "unknown";
}

/**
 * A Bolt receiver over Socket Mode (`@slack/socket-mode`): the client opens the connection with
 * `apps.connections.open`, SocketConnection reopens it after a `disconnect` or a drop (backing
 * off), and this receiver acknowledges every envelope exactly once by `envelope_id`: a redelivered envelope
 * (Slack resends those whose ack it did not get) is re-acknowledged with the first ack's payload
 * and not handled twice. Used instead of Bolt's SocketModeReceiver, which does not deduplicate.
 */
export class SocketReceiver implements Receiver {
  /** The Socket Mode client (tests watch its connection events). */
  readonly client: SocketModeClient;
  private bolt: App | undefined;
  private readonly dedupe: EnvelopeDedupe;
  private readonly connection: SocketConnection;

  constructor(private readonly opts: SocketReceiverOptions) {
    this.dedupe = opts.dedupe ?? new EnvelopeDedupe();
    this.client = new SocketModeClient({
      appToken: opts.appToken,
      logger: socketLogger(opts.logger),
      // Reconnection is SocketConnection's (see there why not the client's).
      autoReconnectEnabled: false,
      clientOptions: { slackApiUrl: opts.apiUrl, retryConfig: { retries: opts.retries ?? 2 } },
    });
    this.connection = new SocketConnection(this.client, opts.logger, opts.reconnect);
    this.client.on("slack_event", (args: SlackEventArgs) => {
      void this.handle(args);
    });
    this.client.on("connected", () => opts.logger.info("Socket Mode connected"));
  }

  init(app: App): void {
    this.bolt = app;
  }

  /** Opens the connection; resolves once Slack said hello (or, Slack unreachable, keeps trying). */
  async start(): Promise<void> {
    await this.connection.start();
  }

  /** Closes the connection and stops reconnecting. */
  async stop(): Promise<void> {
    await this.connection.stop();
  }

  private async handle(args: SlackEventArgs): Promise<void> {
    const started = performance.now();
    const { logger, metrics } = this.opts;
    const body = storableStrings(args.body ?? {});
    const kind = envelopeKind(args.type, body);
    const send = async (payload: unknown) => {
      try {
        await args.ack(
          typeof payload === "object" && payload !== null ? (payload as Record<string, unknown>) : undefined,
        );
      } catch (err) {
        // The connection closed before the ack went out: Slack redelivers the envelope on the next
        // connection, where the dedupe acknowledges it with this same payload.
        logger.warn(
          { kind, err: (err as Error).message },
          "could not acknowledge an envelope; Slack will redeliver it",
        );
      }
    };

    const taken = this.dedupe.take(args.envelope_id);
    if (!taken.first) {
      metrics.slackRequests.inc({ kind, outcome: "redelivered" });
      let timer: NodeJS.Timeout | undefined;
      const giveUp = new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), REDELIVERY_ACK_WAIT_MS);
      });
      const payload = await Promise.race([taken.ack, giveUp]);
      clearTimeout(timer);
      logger.info(
        { kind, retry: args.retry_num },
        "acknowledged a redelivered envelope without handling it again",
      );
      await send(payload);
      return;
    }

    let acked = false;
    const ack = async (response?: unknown) => {
      if (acked) return;
      acked = true;
      metrics.slackAckDuration.observe({ kind }, (performance.now() - started) / 1000);
      taken.acked(response);
      await send(response);
    };
    const problem = envelopeProblem(body);
    if (problem || !this.bolt) {
      metrics.slackRequests.inc({ kind, outcome: problem ? "bad_request" : "not_ready" });
      logger.warn({ problem, kind }, "acknowledged and dropped an envelope the bot cannot handle");
      await ack();
      return;
    }
    const event: ReceiverEvent = {
      body,
      ack,
      ...(args.retry_num !== undefined ? { retryNum: args.retry_num } : {}),
      ...(args.retry_reason !== undefined ? { retryReason: args.retry_reason } : {}),
    };
    try {
      await this.bolt.processEvent(event);
      metrics.slackRequests.inc({ kind, outcome: acked ? "ok" : "unhandled" });
      if (!acked) logger.warn({ kind }, "Slack envelope was not acknowledged by any listener");
    } catch (err) {
      metrics.slackRequests.inc({ kind, outcome: "error" });
      logger.error({ err, kind }, "Slack envelope failed");
    }
    // Every envelope is acknowledged, or Slack would redeliver it for nothing.
    await ack();
  }
}
