import {
  LogLevel,
  type WebAPICallResult,
  WebAPIHTTPError,
  WebAPIPlatformError,
  WebAPIRateLimitedError,
  WebAPIRequestError,
  WebClient,
} from "@slack/web-api";
import type { Logger } from "../shared/logger.js";
import { boltLogger } from "./bolt-logger.js";

/** Slack error codes that mean "try again later" rather than "this request is wrong". */
const TRANSIENT_SLACK_ERRORS = new Set([
  "internal_error",
  "fatal_error",
  "service_unavailable",
  "request_timeout",
  "ratelimited",
]);

/** A failed Web API call, classified so callers can decide whether and when to retry. */
export class SlackApiError extends Error {
  constructor(
    /** `slack_rate_limited` (retry after `retryAfterMs`), `slack_unavailable` (retry with backoff) or `slack_refused` (never). */
    readonly code: "slack_rate_limited" | "slack_unavailable" | "slack_refused",
    message: string,
    /** Slack's `error` string for `ok: false` answers. */
    readonly slackError?: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = "SlackApiError";
  }
}

/** Turns whatever the Web API client threw into a `SlackApiError`. */
export function classifySlackError(method: string, err: unknown): SlackApiError {
  if (err instanceof SlackApiError) return err;
  if (err instanceof WebAPIRateLimitedError) {
    return new SlackApiError(
      "slack_rate_limited",
      `${method}: rate limited`,
      "ratelimited",
      err.retryAfter * 1000,
    );
  }
  if (err instanceof WebAPIHTTPError) {
    if (err.statusCode === 429) {
      const header = Number(err.headers["retry-after"] ?? 1);
      return new SlackApiError(
        "slack_rate_limited",
        `${method}: HTTP 429`,
        "ratelimited",
        (Number.isFinite(header) ? header : 1) * 1000,
      );
    }
    return new SlackApiError("slack_unavailable", `${method}: HTTP ${err.statusCode}`);
  }
  if (err instanceof WebAPIPlatformError) {
    const code = err.data.error;
    return new SlackApiError(
      TRANSIENT_SLACK_ERRORS.has(code) ? "slack_unavailable" : "slack_refused",
      `${method}: ${code}`,
      code,
    );
  }
  if (err instanceof WebAPIRequestError) {
    return new SlackApiError("slack_unavailable", `${method}: ${err.original.message}`);
  }
  return new SlackApiError("slack_unavailable", `${method}: ${(err as Error)?.message ?? String(err)}`);
}

/** The one door to the Slack Web API: no hidden retries, every failure a `SlackApiError`. */
export interface SlackApi {
  call(method: string, args: Record<string, unknown>): Promise<Record<string, unknown>>;
}

/**
 * Builds the wrapper on its own client (same token and base URL as Bolt's) with retries off and
 * rate-limited calls rejected: callers (the outbox) own retrying, and a call never waits inside
 * the client for minutes while it holds a claim.
 */
export function createSlackApi(opts: {
  token: string | undefined;
  apiUrl: string;
  logger: Logger;
  timeoutMs?: number;
}): SlackApi {
  const client = new WebClient(opts.token, {
    slackApiUrl: opts.apiUrl,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: opts.timeoutMs ?? 10_000,
    logger: boltLogger(opts.logger),
    logLevel: LogLevel.ERROR,
  });
  return {
    async call(method, args) {
      try {
        return (await client.apiCall(method, args)) as WebAPICallResult & Record<string, unknown>;
      } catch (err) {
        throw classifySlackError(method, err);
      }
    },
  };
}

/** The wrapper for the Web API a Bolt app uses. */
export function slackApiOf(client: WebClient, logger: Logger): SlackApi {
  return createSlackApi({ token: client.token, apiUrl: client.slackApiUrl, logger });
}

/** The DM channel with `user` (`conversations.open`, which answers the same channel every time). */
export async function openDm(api: SlackApi, user: string): Promise<string> {
  const res = await api.call("conversations.open", { users: user });
  const channel = (res.channel as { id?: string } | undefined)?.id;
  if (!channel)
    throw new SlackApiError("slack_unavailable", `conversations.open gave no channel for ${user}`);
  return channel;
}
