import { type ApiHandler, argString, fail } from "./api-types.js";
import { checkMessageContent } from "./message-content.js";
import type { Block, SandboxFile } from "./types.js";

function apiFile(file: SandboxFile): Record<string, unknown> {
  const shares: Record<string, { ts: string; thread_ts?: string }[]> = {};
  for (const share of file.shares) {
    shares[share.channel] ??= [];
    shares[share.channel]?.push({ ts: share.ts, ...(share.thread_ts ? { thread_ts: share.thread_ts } : {}) });
  }
  return {
    id: file.id,
    name: file.name,
    title: file.title,
    size: file.bytes?.length ?? file.length,
    channels: Object.keys(shares),
    shares: { public: shares },
  };
}

function fileList(value: unknown): { id: string; title?: string }[] | undefined {
  if (!Array.isArray(value) || value.length === 0) return undefined;
  const files: { id: string; title?: string }[] = [];
  for (const entry of value) {
    if (typeof entry !== "object" || entry === null || typeof (entry as { id?: unknown }).id !== "string")
      return undefined;
    const { id, title } = entry as { id: string; title?: unknown };
    files.push(typeof title === "string" ? { id, title } : { id });
  }
  return files;
}

const getUploadUrl: ApiHandler = ({ workspace, args, baseUrl }) => {
  const filename = argString(args, "filename");
  const length = Number(argString(args, "length"));
  if (!filename || !Number.isInteger(length) || length < 0) {
    return fail("invalid_arguments", { errors: ["filename and length are required"] });
  }
  const file = workspace.reserveFile(
    filename,
    length,
    argString(args, "alt_txt") ?? argString(args, "alt_text"),
  );
  return { ok: true, upload_url: `${baseUrl}upload/${file.id}`, file_id: file.id };
};

const completeUpload: ApiHandler = ({ workspace, args }) => {
  const files = fileList(args.files);
  if (!files)
    return fail("invalid_arguments", { errors: ["files must be a non-empty array of {id, title}"] });
  if (files.some(({ id }) => !workspace.file(id)?.bytes)) return fail("file_not_found");
  const channelId = argString(args, "channel_id") ?? argString(args, "channels");
  const threadTs = argString(args, "thread_ts");
  const channel = channelId ? workspace.resolveChannel(channelId) : undefined;
  if (channelId && !channel) return fail("channel_not_found");
  if (threadTs && !channel) return fail("invalid_arguments", { errors: ["thread_ts needs channel_id"] });
  if (channel && threadTs && !workspace.message(channel.id, threadTs)) return fail("thread_not_found");
  const initialComment = argString(args, "initial_comment");
  const problem = checkMessageContent({ text: initialComment, blocks: args.blocks }, false);
  if (problem) return fail(problem.error, problem.detail ? { errors: [problem.detail] } : {});
  const result = workspace.completeUpload({
    files,
    ...(channel ? { channel: channel.id } : {}),
    ...(threadTs ? { thread_ts: threadTs } : {}),
    ...(initialComment ? { initial_comment: initialComment } : {}),
    ...(Array.isArray(args.blocks) ? { blocks: args.blocks as Block[] } : {}),
  });
  return { ok: true, files: result.files.map(apiFile) };
};

/** files.getUploadURLExternal and files.completeUploadExternal (the bytes go to the upload route). */
export const fileMethods: Record<string, ApiHandler> = {
  "files.getUploadURLExternal": getUploadUrl,
  "files.completeUploadExternal": completeUpload,
};
