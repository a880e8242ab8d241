import { toApiMessage } from "./api-message.js";
import { type ApiHandler, argBool, argString, fail } from "./api-types.js";
import { compareTs } from "./ts-clock.js";

function limitArg(value: unknown, fallback: number): number {
  const n = Number(value ?? fallback);
  return Number.isInteger(n) && n > 0 ? Math.min(n, 999) : fallback;
}

/** conversations.history: top-level messages (and broadcasts), newest first, within oldest/latest. */
const conversationsHistory: ApiHandler = ({ workspace, args }) => {
  const id = argString(args, "channel");
  const channel = id ? workspace.resolveChannel(id) : undefined;
  if (!channel) return fail("channel_not_found");
  const oldest = argString(args, "oldest");
  const latest = argString(args, "latest");
  const inclusive = argBool(args, "inclusive");
  const limit = limitArg(args.limit, 100);
  const inRange = workspace.messages(channel.id).filter((m) => {
    if (oldest && (inclusive ? compareTs(m.ts, oldest) < 0 : compareTs(m.ts, oldest) <= 0)) return false;
    if (latest && (inclusive ? compareTs(m.ts, latest) > 0 : compareTs(m.ts, latest) >= 0)) return false;
    return true;
  });
  const newestFirst = inRange.reverse();
  const metadata = argBool(args, "include_all_metadata");
  return {
    ok: true,
    messages: newestFirst.slice(0, limit).map((m) => toApiMessage(workspace, m, { metadata })),
    has_more: newestFirst.length > limit,
  };
};

/** conversations.replies: a thread's parent and its replies, oldest first. */
const conversationsReplies: ApiHandler = ({ workspace, args }) => {
  const id = argString(args, "channel");
  const channel = id ? workspace.resolveChannel(id) : undefined;
  if (!channel) return fail("channel_not_found");
  const ts = argString(args, "ts");
  if (!ts || !workspace.message(channel.id, ts)) return fail("thread_not_found");
  const limit = limitArg(args.limit, 1000);
  const thread = workspace.thread(channel.id, ts);
  const metadata = argBool(args, "include_all_metadata");
  return {
    ok: true,
    messages: thread.slice(0, limit).map((m) => toApiMessage(workspace, m, { metadata })),
    has_more: thread.length > limit,
  };
};

/** conversations.history and conversations.replies. */
export const historyMethods: Record<string, ApiHandler> = {
  "conversations.history": conversationsHistory,
  "conversations.replies": conversationsReplies,
};
