import { html, type SafeHtml } from "../../../web/html.js";
import type { Block, SandboxEphemeral, SandboxMessage, SandboxUser, SandboxView } from "../types.js";
import type { SandboxWorkspace } from "../workspace.js";
import { blocksHtml, textHtml } from "./block-html.js";
import { mrkdwnToHtml } from "./mrkdwn-html.js";

/** The channels a user sees in the sidebar: every public channel, and the DMs they are in. */
export function visibleChannels(workspace: SandboxWorkspace, userId: string) {
  return workspace
    .channels()
    .filter((c) => c.kind === "channel" || c.members.includes(userId))
    .sort((a, b) => (a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === "channel" ? -1 : 1));
}

/** The user groups (handles) a user belongs to. */
export function groupsOf(workspace: SandboxWorkspace, userId: string): string[] {
  return workspace
    .userGroups()
    .filter((g) => g.users.includes(userId))
    .map((g) => g.handle);
}

/** The people the page can act as: every seeded user but the bot. */
export function actingUsers(workspace: SandboxWorkspace): SandboxUser[] {
  return workspace.users().filter((u) => !u.is_bot);
}

function dmLabel(workspace: SandboxWorkspace, members: string[], userId: string): string {
  const others = members.filter((m) => m !== userId);
  const names = (others.length ? others : members).map((m) => workspace.user(m)?.name ?? m);
  return names.join(", ");
}

/** The sidebar: channels, then direct messages, the current one marked; counts of messages as a hint of activity. */
export function sidebarHtml(workspace: SandboxWorkspace, userId: string, current: string): SafeHtml {
  const channels = visibleChannels(workspace, userId);
  const item = (id: string, label: string, count: number) =>
    html`<li><a href="#${id}" class="channel-link${id === current ? " current" : ""}" data-channel="${id}">${label}<span class="count">${count || ""}</span></a></li>`;
  const publics = channels.filter((c) => c.kind === "channel");
  const dms = channels.filter((c) => c.kind !== "channel");
  return html`<h2>Channels</h2><ul>${publics.map((c) => item(c.id, `# ${c.name}`, workspace.messages(c.id).length))}</ul>
    <h2>Direct messages</h2><ul>${
      dms.length
        ? dms.map((c) =>
            item(
              c.id,
              c.kind === "im" && c.members.length === 1 && c.members[0] === userId
                ? "mlops (bot)"
                : dmLabel(workspace, c.members, userId),
              workspace.messages(c.id).length,
            ),
          )
        : html`<li class="muted">none yet</li>`
    }</ul>`;
}

function timeHtml(ts: string): SafeHtml {
  const date = new Date(Number.parseFloat(ts) * 1000);
  return html`<time datetime="${date.toISOString()}" title="${date.toISOString()}">${date.toISOString().slice(11, 19)}</time>`;
}

function authorHtml(workspace: SandboxWorkspace, userId: string): SafeHtml {
  const user = workspace.user(userId);
  if (!user) return html`<span class="author">${userId}</span>`;
  return user.is_bot
    ? html`<span class="author bot">${user.name}<span class="badge">APP</span></span>`
    : html`<span class="author" title="${user.real_name}">${user.real_name}</span>`;
}

function bodyHtml(text: string, blocks: readonly Block[] | undefined, workspace: SandboxWorkspace): SafeHtml {
  return blocks && blocks.length > 0
    ? html`<div class="blocks">${blocksHtml(blocks, workspace)}</div>`
    : html`<div class="text">${mrkdwnToHtml(text, workspace)}</div>`;
}

function filesHtml(workspace: SandboxWorkspace, ids: readonly string[]): SafeHtml {
  if (ids.length === 0) return html``;
  return html`<div class="files">${ids.map((id) => {
    const file = workspace.file(id);
    if (!file) return html`<div class="file missing">[file ${id}]</div>`;
    const size = file.bytes?.length ?? file.length;
    const isImage = /\.(png|jpe?g|gif|webp)$/i.test(file.name);
    return html`<div class="file"><a href="/sandbox/files/${file.id}" target="_blank" rel="noopener">📎 ${file.title}</a>
      <span class="muted">${file.name} · ${size.toLocaleString("en")} bytes</span>
      ${isImage ? html`<img class="file-preview" src="/sandbox/files/${file.id}" alt="${file.alt_text ?? file.title}">` : ""}</div>`;
  })}</div>`;
}

function reactionsHtml(message: SandboxMessage, workspace: SandboxWorkspace): SafeHtml {
  if (message.reactions.length === 0) return html``;
  return html`<div class="reactions">${message.reactions.map(
    (r) => html`<span class="reaction">${mrkdwnToHtml(`:${r.name}:`, workspace)} ${r.users.length}</span>`,
  )}</div>`;
}

function messageHtml(workspace: SandboxWorkspace, message: SandboxMessage, replies?: SafeHtml): SafeHtml {
  return html`<article class="msg" data-channel="${message.channel}" data-ts="${message.ts}" data-ephemeral="false">
    <header>${authorHtml(workspace, message.user)} ${timeHtml(message.ts)}${message.edits > 0 ? html` <span class="muted">(edited)</span>` : ""}${message.reply_broadcast ? html` <span class="muted">replied to a thread</span>` : ""}</header>
    ${bodyHtml(message.text, message.blocks, workspace)}${filesHtml(workspace, message.files)}${reactionsHtml(message, workspace)}${replies ?? ""}
  </article>`;
}

function ephemeralHtml(workspace: SandboxWorkspace, ephemeral: SandboxEphemeral): SafeHtml {
  return html`<article class="msg ephemeral" data-channel="${ephemeral.channel}" data-ts="${ephemeral.message_ts}" data-ephemeral="true">
    <header>${authorHtml(workspace, workspace.bot.userId)} ${timeHtml(ephemeral.message_ts)} <span class="only-you">👁 Only visible to you</span></header>
    ${bodyHtml(ephemeral.text, ephemeral.blocks, workspace)}
  </article>`;
}

type Entry = { ts: string; markup: SafeHtml };

function byTs(a: Entry, b: Entry): number {
  return Number.parseFloat(a.ts) - Number.parseFloat(b.ts) || a.ts.localeCompare(b.ts);
}

/**
 * One channel as a user sees it: top-level messages oldest first, each thread under its parent
 * (open unless the user closed it), and the ephemeral messages shown to this user only.
 */
export function channelHtml(
  workspace: SandboxWorkspace,
  channelId: string,
  userId: string,
  closedThreads: ReadonlySet<string>,
): SafeHtml {
  const channel = workspace.channel(channelId);
  if (!channel || (channel.kind !== "channel" && !channel.members.includes(userId)))
    return html`<p class="muted">No such channel.</p>`;
  const all = workspace.allMessages(channelId);
  const ephemerals = workspace.ephemerals(userId).filter((e) => e.channel === channelId);
  const entries: Entry[] = [];
  for (const message of workspace.messages(channelId)) {
    const isParent = message.thread_ts === message.ts && message.reply_count > 0;
    let replies: SafeHtml | undefined;
    if (isParent) {
      const items: Entry[] = [
        ...all
          .filter((m) => m.thread_ts === message.ts && m.ts !== message.ts)
          .map((m) => ({ ts: m.ts, markup: messageHtml(workspace, m) })),
        ...ephemerals
          .filter((e) => e.thread_ts === message.ts)
          .map((e) => ({ ts: e.message_ts, markup: ephemeralHtml(workspace, e) })),
      ].sort(byTs);
      const open = !closedThreads.has(message.ts);
      replies = html`<details class="thread" data-thread-ts="${message.ts}"${open ? html` open` : ""}>
        <summary>${message.reply_count} ${message.reply_count === 1 ? "reply" : "replies"}</summary>
        <div class="replies">${items.map((i) => i.markup)}</div>
        <form class="reply-form" data-thread-ts="${message.ts}"><input name="text" placeholder="Reply in thread…" autocomplete="off" aria-label="Reply in thread"><button type="submit">Reply</button></form>
      </details>`;
    }
    entries.push({ ts: message.ts, markup: messageHtml(workspace, message, replies) });
  }
  const threadParents = new Set(workspace.messages(channelId).map((m) => m.ts));
  for (const e of ephemerals) {
    if (e.thread_ts && threadParents.has(e.thread_ts)) continue;
    entries.push({ ts: e.message_ts, markup: ephemeralHtml(workspace, e) });
  }
  entries.sort(byTs);
  return entries.length
    ? html`${entries.map((e) => e.markup)}`
    : html`<p class="muted empty">No messages yet.</p>`;
}

/** The newest open modal of a user, as a dialog whose form submits its inputs; empty when none is open. */
export function modalHtml(workspace: SandboxWorkspace, userId: string): SafeHtml {
  const view = workspace
    .views(userId)
    .filter((v) => v.open)
    .at(-1);
  return view ? viewHtml(workspace, view) : html``;
}

function viewHtml(workspace: SandboxWorkspace, view: SandboxView): SafeHtml {
  const v = view.view;
  const blocks = Array.isArray(v.blocks) ? (v.blocks as Block[]) : [];
  const hasSubmit = typeof v.submit === "object" && v.submit !== null;
  return html`<form class="modal" data-view-id="${view.id}" data-updates="${view.updates}">
    <header class="modal-title">${textHtml(v.title, workspace)}</header>
    <div class="modal-body">${blocksHtml(blocks, workspace)}<div class="bk-error" data-error-for=""></div></div>
    <footer class="modal-footer">
      <button type="button" class="bk-button default modal-close">${typeof v.close === "object" && v.close !== null ? textHtml(v.close, workspace) : "Close"}</button>
      ${hasSubmit ? html`<button type="submit" class="bk-button primary modal-submit">${textHtml(v.submit, workspace)}</button>` : ""}
    </footer>
  </form>`;
}
