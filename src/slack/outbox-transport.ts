import type { Delivery, DeliveryOutcome, OutboxTransport } from "../outbox/index.js";
import { type SlackApi, SlackApiError } from "./web-api.js";

/** Delivers outbox rows through the Web API wrapper, mapping its errors to retry decisions. */
export function slackOutboxTransport(api: () => SlackApi): OutboxTransport {
  return {
    async deliver(d: Delivery): Promise<DeliveryOutcome> {
      const args: Record<string, unknown> = { ...d.payload, channel: d.channel };
      if (d.threadTs) args.thread_ts = d.threadTs;
      if (d.ts) args.ts = d.ts;
      try {
        const result = await api().call(d.method, args);
        const ts =
          typeof result.ts === "string"
            ? result.ts
            : typeof result.message_ts === "string"
              ? result.message_ts
              : undefined;
        return {
          kind: "delivered",
          ts,
          channel: typeof result.channel === "string" ? result.channel : undefined,
        };
      } catch (err) {
        const e = err instanceof SlackApiError ? err : new SlackApiError("slack_unavailable", String(err));
        if (e.code === "slack_rate_limited")
          return { kind: "rate_limited", retryAfterMs: e.retryAfterMs ?? 1000 };
        if (e.code === "slack_unavailable") return { kind: "unavailable", error: e.message };
        return { kind: "rejected", error: e.message };
      }
    },
  };
}
