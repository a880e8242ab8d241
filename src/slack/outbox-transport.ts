import { renderPng } from "../charts/render.js";
import type { ChartSpec } from "../charts/spec.js";
import type { Delivery, DeliveryOutcome, OutboxTransport } from "../outbox/index.js";
import { openDm, type SlackApi, SlackApiError } from "./web-api.js";

/** The `event_type` of the metadata each post carries: its outbox row. */
export const OUTBOX_EVENT_TYPE = "mlops_outbox";

interface SlackMessage {
  ts?: string;
  files?: { name?: string }[];
  metadata?: { event_type?: string; event_payload?: { outbox_id?: unknown } };
}

/**
 * Slack errors about the bot's token or app rather than the message: every write would get the
 * same answer, so the outbox pauses until `auth.test` succeeds instead of failing rows.
 */
export const WORKSPACE_ERRORS = new Set([
  "invalid_auth",
  "not_authed",
  "token_revoked",
  "token_expired",
  "account_inactive",
  "missing_scope",
]);

/** A Slack user id: an outbox row addressed to one is a DM. */
const USER_ID = /^[UW][A-Z0-9]{2,}$/;

/** Delivers outbox rows through the Web API wrapper, mapping its errors to retry decisions. */
export function slackOutboxTransport(api: () => SlackApi): OutboxTransport {
  return {
    async deliver(d: Delivery): Promise<DeliveryOutcome> {
      const args: Record<string, unknown> = { ...d.payload, channel: d.channel };
      // Tags each post with its outbox row, so that after a crash the row can be found in Slack.
      if (d.method === "chat.postMessage" && args.metadata === undefined)
        args.metadata = { event_type: OUTBOX_EVENT_TYPE, event_payload: { outbox_id: d.outboxId } };
      if (d.threadTs) args.thread_ts = d.threadTs;
      if (d.ts) args.ts = d.ts;
      try {
        // A post addressed to a person (a DM) goes to their DM channel, opened here, at delivery,
        // so that queueing it needs no Slack call and an outage only delays it.
        if (d.method === "chat.postMessage" && USER_ID.test(d.channel))
          args.channel = await openDm(api(), d.channel);
        if (d.method === "files.uploadV2") return await uploadFile(api(), d);
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
        if (e.slackError && WORKSPACE_ERRORS.has(e.slackError))
          return { kind: "workspace_error", code: e.slackError, error: e.message };
        return { kind: "rejected", error: e.message };
      }
    },
    async probe() {
      await api().call("auth.test", {});
    },
    async findDelivered(d: Delivery, since: Date) {
      // A reply is looked for in its thread; a top-level post among the channel's recent messages.
      const result = d.threadTs
        ? await api().call("conversations.replies", {
            channel: d.channel,
            ts: d.threadTs,
            include_all_metadata: true,
            limit: 1000,
          })
        : await api().call("conversations.history", {
            channel: d.channel,
            oldest: (since.getTime() / 1000).toFixed(6),
            include_all_metadata: true,
            limit: 999,
          });
      const messages = Array.isArray(result.messages) ? (result.messages as SlackMessage[]) : [];
      // A post carries its row id in metadata; a file share cannot, so it is known by its file
      // name, which the uploader keeps unique within the thread.
      const filename = d.method === "files.uploadV2" ? String(d.payload.filename ?? "") : undefined;
      const found = messages.find((m) =>
        filename
          ? (m.files ?? []).some((f) => f.name === filename)
          : m.metadata?.event_type === OUTBOX_EVENT_TYPE &&
            m.metadata.event_payload?.outbox_id === d.outboxId,
      );
      if (!found?.ts) return undefined;
      return { ts: found.ts, channel: typeof result.channel === "string" ? result.channel : d.channel };
    },
  };
}

/**
 * `files.uploadV2` as the Web API does it: reserve an upload URL, send the bytes there, then
 * complete the upload sharing the file in the channel (and thread). A retry after a failure in
 * the middle reserves a new file; the unshared one is left behind, never shown twice.
 */
async function uploadFile(api: SlackApi, d: Delivery): Promise<DeliveryOutcome> {
  const filename = String(d.payload.filename ?? "output.txt");
  let bytes: Buffer;
  try {
    // A chart travels as its description and is drawn here, in the outbox worker.
    bytes = d.payload.chart
      ? renderPng(d.payload.chart as ChartSpec)
      : Buffer.from(String(d.payload.content ?? ""), "utf8");
  } catch (err) {
    return { kind: "rejected", error: `chart could not be drawn: ${(err as Error).message}` };
  }
  const altText = typeof d.payload.alt_text === "string" ? d.payload.alt_text : undefined;
  const reserved = await api.call("files.getUploadURLExternal", {
    filename,
    length: bytes.length,
    ...(altText ? { alt_text: altText } : {}),
  });
  const url = typeof reserved.upload_url === "string" ? reserved.upload_url : undefined;
  const fileId = typeof reserved.file_id === "string" ? reserved.file_id : undefined;
  if (!url || !fileId) return { kind: "rejected", error: "files.getUploadURLExternal: no upload_url" };
  let res: Response;
  try {
    res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body: bytes,
      signal: AbortSignal.timeout(30_000),
    });
    await res.arrayBuffer();
  } catch (err) {
    return { kind: "unavailable", error: `file upload: ${(err as Error).message}` };
  }
  if (res.status >= 500 || res.status === 429)
    return { kind: "unavailable", error: `file upload: HTTP ${res.status}` };
  if (!res.ok) return { kind: "rejected", error: `file upload: HTTP ${res.status}` };
  const done = await api.call("files.completeUploadExternal", {
    files: [{ id: fileId, title: String(d.payload.title ?? filename) }],
    channel_id: d.channel,
    ...(d.threadTs ? { thread_ts: d.threadTs } : {}),
    ...(d.payload.initial_comment ? { initial_comment: String(d.payload.initial_comment) } : {}),
  });
  const file = Array.isArray(done.files) ? (done.files[0] as { id?: string } | undefined) : undefined;
  return { kind: "delivered", ts: file?.id, channel: d.channel };
}
