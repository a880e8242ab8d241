import type { OutboxRow } from "../../src/outbox/index.js";

/**
 * Whether a Slack call is the one that delivers an outbox row: a `chat.*` write, or the call that
 * completes a file upload (the review draft, charts, long runbook output).
 */
export function deliversRow(method: string): boolean {
  return method.startsWith("chat.") || method === "files.completeUploadExternal";
}

/**
 * What the thread under a card should say, from the sent rows hanging on it in commit order: each
 * post's text, and each shared file's comment (the text Slack shows with it).
 */
export function expectedThread(sent: readonly OutboxRow[], cardOutboxId: number | null): string[] {
  return sent
    .filter(
      (r) =>
        r.parentId === cardOutboxId && (r.method === "chat.postMessage" || r.method === "files.uploadV2"),
    )
    .map((r) => String(r.method === "files.uploadV2" ? (r.payload.initial_comment ?? "") : r.payload.text));
}
