import { checkMessageContent, contentFields } from "./message-content.js";
import type { ResponseTarget } from "./response-url-registry.js";
import type { EphemeralSource } from "./types.js";
import type { SandboxWorkspace } from "./workspace.js";

/** Slack's response_url / ack body: `{text, blocks, response_type, replace_original, delete_original, thread_ts}`. */
export interface ResponsePayload {
  text?: string;
  blocks?: unknown[];
  response_type?: "ephemeral" | "in_channel";
  replace_original?: boolean;
  delete_original?: boolean;
  thread_ts?: string;
}

/** What a response did: posted an ephemeral or a channel message, replaced or deleted the original; or why it failed. */
export type ResponseOutcome =
  | { ok: true; kind: "ephemeral" | "message" | "replaced" | "deleted"; ts?: string }
  | { ok: false; error: string; detail?: string };

function flag(value: unknown): boolean {
  return value === true || value === "true";
}

/** Applies a response_url post (or a command's ack body) to the workspace the way Slack would. */
export function applyResponse(
  workspace: SandboxWorkspace,
  target: ResponseTarget,
  payload: unknown,
  source: Exclude<EphemeralSource, "api">,
): ResponseOutcome {
  if (typeof payload !== "object" || payload === null || Array.isArray(payload))
    return { ok: false, error: "invalid_payload" };
  const body = payload as Record<string, unknown>;
  const { messageTs } = target;

  if (flag(body.delete_original)) {
    if (!messageTs) return { ok: false, error: "message_not_found" };
    const deleted = target.isEphemeral
      ? workspace.deleteEphemeral(target.channel, messageTs)
      : workspace.deleteMessage(target.channel, messageTs);
    return deleted ? { ok: true, kind: "deleted", ts: messageTs } : { ok: false, error: "message_not_found" };
  }

  const text = typeof body.text === "string" ? body.text : undefined;
  const problem = checkMessageContent({ text, blocks: body.blocks });
  if (problem)
    return { ok: false, error: problem.error, ...(problem.detail ? { detail: problem.detail } : {}) };
  const content = contentFields({ text, blocks: body.blocks });

  if (flag(body.replace_original) && messageTs) {
    const replacement = { text: content.text ?? "", blocks: content.blocks ?? [] };
    const replaced = target.isEphemeral
      ? workspace.updateEphemeral(target.channel, messageTs, replacement)
      : workspace.updateMessage(target.channel, messageTs, replacement);
    return replaced
      ? { ok: true, kind: "replaced", ts: messageTs }
      : { ok: false, error: "message_not_found" };
  }

  const requestedThread =
    typeof body.thread_ts === "string" && body.thread_ts !== "" ? body.thread_ts : target.threadTs;
  const threadTs =
    requestedThread && workspace.message(target.channel, requestedThread) ? requestedThread : undefined;
  if (body.response_type === "in_channel") {
    const message = workspace.postMessage({
      channel: target.channel,
      ...content,
      ...(threadTs ? { thread_ts: threadTs } : {}),
    });
    return { ok: true, kind: "message", ts: message.ts };
  }
  const ephemeral = workspace.postEphemeral({
    channel: target.channel,
    user: target.user,
    ...content,
    ...(threadTs ? { thread_ts: threadTs } : {}),
    source,
  });
  return { ok: true, kind: "ephemeral", ts: ephemeral.message_ts };
}
