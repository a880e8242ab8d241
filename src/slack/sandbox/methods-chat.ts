import { toApiMessage } from "./api-message.js";
import { type ApiArgs, type ApiHandler, type ApiResult, argBool, argString, fail } from "./api-types.js";
import { checkMessageContent, contentFields } from "./message-content.js";
import type { SandboxChannel, SandboxMessage } from "./types.js";
import type { SandboxWorkspace } from "./workspace.js";

/** Resolves a `channel` argument: id, `#name`, `name`, or a user id (which opens the DM, as Slack does). */
export function channelArg(
  workspace: SandboxWorkspace,
  args: ApiArgs,
  key = "channel",
): SandboxChannel | undefined {
  const value = argString(args, key);
  if (!value) return undefined;
  const channel = workspace.resolveChannel(value);
  if (channel) return channel;
  return workspace.user(value) ? workspace.openDm([value]).channel : undefined;
}

function contentProblem(args: ApiArgs, requireContent = true): ApiResult | null {
  const problem = checkMessageContent(
    { text: argString(args, "text"), blocks: args.blocks, attachments: args.attachments },
    requireContent,
  );
  if (!problem) return null;
  return fail(problem.error, problem.detail ? { errors: [problem.detail] } : {});
}

/** `metadata` as Slack takes it: `{event_type, event_payload}`; anything else is ignored, as Slack does. */
function metadataArg(args: ApiArgs): { metadata?: NonNullable<SandboxMessage["metadata"]> } {
  const m = args.metadata as { event_type?: unknown; event_payload?: unknown } | undefined;
  if (!m || typeof m !== "object" || typeof m.event_type !== "string") return {};
  const payload = m.event_payload && typeof m.event_payload === "object" ? m.event_payload : {};
  return { metadata: { event_type: m.event_type, event_payload: payload as Record<string, unknown> } };
}

const postMessage: ApiHandler = ({ workspace, args }) => {
  const channel = channelArg(workspace, args);
  if (!channel) return fail("channel_not_found");
  const problem = contentProblem(args);
  if (problem) return problem;
  const threadTs = argString(args, "thread_ts");
  if (threadTs && !workspace.message(channel.id, threadTs)) return fail("thread_not_found");
  const message = workspace.postMessage({
    channel: channel.id,
    ...contentFields({ text: argString(args, "text"), blocks: args.blocks, attachments: args.attachments }),
    ...(threadTs ? { thread_ts: threadTs, reply_broadcast: argBool(args, "reply_broadcast") } : {}),
    ...metadataArg(args),
  });
  return { ok: true, channel: channel.id, ts: message.ts, message: toApiMessage(workspace, message) };
};

const update: ApiHandler = ({ workspace, args }) => {
  const channel = channelArg(workspace, args);
  if (!channel) return fail("channel_not_found");
  const ts = argString(args, "ts");
  const existing = ts ? workspace.message(channel.id, ts) : undefined;
  if (!ts || !existing) return fail("message_not_found");
  if (existing.user !== workspace.bot.userId) return fail("cant_update_message");
  const problem = contentProblem(args);
  if (problem) return problem;
  // Like Slack: fields left out keep their previous value; an empty blocks array removes the blocks.
  const content = contentFields({
    text: argString(args, "text"),
    blocks: args.blocks,
    attachments: args.attachments,
  });
  const message = workspace.updateMessage(channel.id, ts, content);
  if (!message) return fail("message_not_found");
  return { ok: true, channel: channel.id, ts, text: message.text, message: toApiMessage(workspace, message) };
};

const postEphemeral: ApiHandler = ({ workspace, args }) => {
  const channel = channelArg(workspace, args);
  if (!channel) return fail("channel_not_found");
  const userId = argString(args, "user");
  if (!userId || !workspace.user(userId)) return fail("user_not_found");
  if (channel.kind !== "channel" && !channel.members.includes(userId)) return fail("user_not_in_channel");
  const problem = contentProblem(args);
  if (problem) return problem;
  const threadTs = argString(args, "thread_ts");
  const ephemeral = workspace.postEphemeral({
    channel: channel.id,
    user: userId,
    ...contentFields({ text: argString(args, "text"), blocks: args.blocks }),
    ...(threadTs ? { thread_ts: threadTs } : {}),
    source: "api",
  });
  return { ok: true, message_ts: ephemeral.message_ts };
};

const deleteMessage: ApiHandler = ({ workspace, args }) => {
  const channel = channelArg(workspace, args);
  if (!channel) return fail("channel_not_found");
  const ts = argString(args, "ts");
  const existing = ts ? workspace.message(channel.id, ts) : undefined;
  if (!ts || !existing) return fail("message_not_found");
  if (existing.user !== workspace.bot.userId) return fail("cant_delete_message");
  workspace.deleteMessage(channel.id, ts);
  return { ok: true, channel: channel.id, ts };
};

const addReaction: ApiHandler = ({ workspace, args }) => {
  const channel = channelArg(workspace, args);
  if (!channel) return fail("channel_not_found");
  const name = argString(args, "name");
  if (!name) return fail("invalid_name");
  const ts = argString(args, "timestamp");
  if (!ts) return fail("message_not_found");
  const outcome = workspace.addReaction(channel.id, ts, name);
  return outcome === "ok" ? { ok: true } : fail(outcome);
};

/** chat.postMessage, chat.update, chat.postEphemeral, chat.delete and reactions.add. */
export const chatMethods: Record<string, ApiHandler> = {
  "chat.postMessage": postMessage,
  "chat.update": update,
  "chat.postEphemeral": postEphemeral,
  "chat.delete": deleteMessage,
  "reactions.add": addReaction,
};
