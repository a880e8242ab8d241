import { renderBlocks } from "./block-render.js";
import { renderMrkdwn } from "./mrkdwn.js";
import type { Block, SandboxEphemeral, SandboxMessage } from "./types.js";
import type { SandboxWorkspace } from "./workspace.js";

const INDENT = "    │ ";

function body(text: string, blocks: readonly Block[] | undefined, workspace: SandboxWorkspace): string {
  if ((!blocks || blocks.length === 0) && text === "") return "";
  const lines =
    blocks && blocks.length > 0 ? renderBlocks(blocks, workspace) : renderMrkdwn(text, workspace).split("\n");
  return lines
    .flatMap((line) => line.split("\n"))
    .map((line) => `${INDENT}${line}\n`)
    .join("");
}

function where(
  workspace: SandboxWorkspace,
  channel: string,
  threadTs: string | undefined,
  ts: string,
): string {
  const label = workspace.channelLabel(channel);
  return threadTs && threadTs !== ts ? `${label} ↳ thread ${threadTs}` : label;
}

function who(workspace: SandboxWorkspace, userId: string): string {
  return `@${workspace.user(userId)?.name ?? userId}`;
}

function messageLine(workspace: SandboxWorkspace, message: SandboxMessage, verb: string): string {
  const broadcast = message.reply_broadcast ? " (also sent to the channel)" : "";
  const files = message.files.map((id) => ` [file ${workspace.file(id)?.name ?? id}]`).join("");
  return `${where(workspace, message.channel, message.thread_ts, message.ts)}  ${who(workspace, message.user)}${verb}${broadcast}${files}  (ts ${message.ts})\n`;
}

function ephemeralLine(workspace: SandboxWorkspace, ephemeral: SandboxEphemeral): string {
  const verb = ephemeral.edits > 0 ? `replaced (edit ${ephemeral.edits})` : `via ${ephemeral.source}`;
  return `${where(workspace, ephemeral.channel, ephemeral.thread_ts, ephemeral.message_ts)}  (only visible to ${who(workspace, ephemeral.user)}, ${verb})\n`;
}

/**
 * Prints every message, edit, ephemeral, view and file of a workspace as readable text, so someone running
 * the bot in a terminal can follow the conversation. Returns a function that stops printing.
 */
export function attachTerminalPrinter(
  workspace: SandboxWorkspace,
  write: (text: string) => void = (text) => process.stdout.write(text),
): () => void {
  const unsubscribers = [
    workspace.on("message", (message) => {
      write(messageLine(workspace, message, ":") + body(message.text, message.blocks, workspace));
    }),
    workspace.on("update", (message) => {
      write(
        messageLine(workspace, message, ` ✎ edited (edit ${message.edits}):`) +
          body(message.text, message.blocks, workspace),
      );
    }),
    workspace.on("ephemeral", (ephemeral) => {
      write(ephemeralLine(workspace, ephemeral) + body(ephemeral.text, ephemeral.blocks, workspace));
    }),
    workspace.on("delete", (deletion) => {
      write(
        `${workspace.channelLabel(deletion.channel)}  ✗ deleted ${deletion.ephemeral ? "ephemeral " : ""}${deletion.ts}\n`,
      );
    }),
    workspace.on("reaction", (reaction) => {
      write(
        `${workspace.channelLabel(reaction.channel)}  :${reaction.name}: from ${who(workspace, reaction.user)} on ${reaction.ts}\n`,
      );
    }),
    workspace.on("view", (view) => {
      const state = !view.open ? "closed" : view.updates > 0 ? `updated (update ${view.updates})` : "opened";
      const title = view.view.title as { text?: unknown } | undefined;
      const heading = `[modal ${view.id} ${state} for ${who(workspace, view.user)}] ${String(title?.text ?? "")}\n`;
      const blocks = Array.isArray(view.view.blocks) ? (view.view.blocks as Block[]) : [];
      write(view.open ? heading + body("", blocks, workspace) : heading);
    }),
    workspace.on("file", (file) => {
      const size = `${file.bytes?.length ?? file.length} bytes`;
      const share = file.shares.at(-1);
      const place = share ? where(workspace, share.channel, share.thread_ts, share.ts) : "(not shared)";
      write(`${place}  [file ${file.id}] "${file.title}" (${file.name}, ${size})\n`);
    }),
  ];
  return () => {
    for (const unsubscribe of unsubscribers) unsubscribe();
  };
}
