import type { SandboxMessage } from "./types.js";
import type { SandboxWorkspace } from "./workspace.js";

/** A stored message in the shape the Web API returns it (`message` in chat.postMessage, chat.update). */
export function toApiMessage(
  workspace: SandboxWorkspace,
  message: SandboxMessage,
  opts: { metadata?: boolean } = {},
): Record<string, unknown> {
  const shaped: Record<string, unknown> = {
    type: "message",
    text: message.text,
    user: message.user,
    ts: message.ts,
    team: workspace.team.id,
  };
  if (message.bot_id) {
    shaped.bot_id = message.bot_id;
    shaped.app_id = workspace.bot.appId;
  }
  if (message.blocks) shaped.blocks = message.blocks;
  if (message.attachments) shaped.attachments = message.attachments;
  if (message.thread_ts) {
    shaped.thread_ts = message.thread_ts;
    if (message.thread_ts === message.ts) {
      shaped.reply_count = message.reply_count;
      shaped.reply_users = message.reply_users;
      if (message.latest_reply) shaped.latest_reply = message.latest_reply;
    } else {
      const parent = workspace.message(message.channel, message.thread_ts);
      if (parent) shaped.parent_user_id = parent.user;
    }
  }
  if (opts.metadata && message.metadata) shaped.metadata = message.metadata;
  if (message.reply_broadcast) shaped.subtype = "thread_broadcast";
  if (message.edited) shaped.edited = message.edited;
  if (message.reactions.length > 0) {
    shaped.reactions = message.reactions.map((reaction) => ({ ...reaction, count: reaction.users.length }));
  }
  if (message.files.length > 0) {
    shaped.files = message.files.map((id) => {
      const file = workspace.file(id);
      return { id, name: file?.name, title: file?.title, size: file?.bytes?.length ?? file?.length };
    });
    shaped.upload = true;
  }
  return shaped;
}
