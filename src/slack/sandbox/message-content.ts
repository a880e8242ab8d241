import { BLOCK_LIMITS, validateBlocks } from "./block-kit.js";
import type { Block } from "./types.js";

/** Text, blocks and attachments of a message as received, before they are stored. */
export interface MessageContent {
  text?: string | undefined;
  blocks?: unknown;
  attachments?: unknown;
}

/** Why Slack would refuse a message's content: an error code, plus a detail for invalid_blocks. */
export interface ContentProblem {
  error: "no_text" | "msg_too_long" | "invalid_blocks" | "invalid_attachments";
  detail?: string;
}

/** Checks content the way chat.postMessage does: no_text, msg_too_long, then invalid_blocks. */
export function checkMessageContent(content: MessageContent, requireContent = true): ContentProblem | null {
  const hasText = typeof content.text === "string" && content.text.length > 0;
  const hasBlocks = content.blocks !== undefined && content.blocks !== "";
  const hasAttachments = content.attachments !== undefined && content.attachments !== "";
  if (requireContent && !hasText && !hasBlocks && !hasAttachments) return { error: "no_text" };
  if (typeof content.text === "string" && content.text.length > BLOCK_LIMITS.messageText)
    return { error: "msg_too_long" };
  if (hasBlocks) {
    const detail = validateBlocks(content.blocks);
    if (detail) return { error: "invalid_blocks", detail };
  }
  if (hasAttachments && !Array.isArray(content.attachments)) return { error: "invalid_attachments" };
  return null;
}

/** Narrows checked content to the stored shape (call after `checkMessageContent` passed). */
export function contentFields(content: MessageContent): {
  text?: string;
  blocks?: Block[];
  attachments?: unknown[];
} {
  const fields: { text?: string; blocks?: Block[]; attachments?: unknown[] } = {};
  if (typeof content.text === "string") fields.text = content.text;
  if (Array.isArray(content.blocks)) fields.blocks = content.blocks as Block[];
  if (Array.isArray(content.attachments)) fields.attachments = content.attachments;
  return fields;
}
