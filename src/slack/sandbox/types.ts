/** A Block Kit block or element as the sandbox sees it: a JSON object with a string `type`. */
export type Block = { type: string; [key: string]: unknown };

/** The workspace (team) the sandbox imitates. */
export interface SandboxTeam {
  id: string;
  name: string;
  domain: string;
}

/** A workspace member; the bot itself is one too, with `is_bot: true`. */
export interface SandboxUser {
  id: string;
  name: string;
  real_name: string;
  tz: string;
  is_bot: boolean;
}

/** A public channel (`C…`), a direct message (`D…`) or a multi-person DM (`G…`). */
export interface SandboxChannel {
  id: string;
  name: string;
  kind: "channel" | "im" | "mpim";
  /** Members of a DM; empty for public channels, which everyone can see. */
  members: string[];
}

/** A user group (`S…`), mentioned as `<!subteam^S…>`. */
export interface SandboxUserGroup {
  id: string;
  handle: string;
  name: string;
  users: string[];
}

/** One emoji reaction on a message and who added it. */
export interface SandboxReaction {
  name: string;
  users: string[];
}

/** A message stored in a channel, top-level or a thread reply. */
export interface SandboxMessage {
  type: "message";
  channel: string;
  ts: string;
  user: string;
  bot_id?: string;
  text: string;
  blocks?: Block[];
  attachments?: unknown[];
  /** Set on replies (the parent's ts) and on parents that have replies (their own ts). */
  thread_ts?: string;
  reply_count: number;
  reply_users: string[];
  latest_reply?: string;
  reply_broadcast?: boolean;
  /** How many times chat.update (or replace_original) changed this message. */
  edits: number;
  edited?: { user: string; ts: string };
  reactions: SandboxReaction[];
  /** Ids of files shared with this message. */
  files: string[];
  /** Slack message metadata (`metadata` on chat.postMessage): returned by history with include_all_metadata. */
  metadata?: { event_type: string; event_payload: Record<string, unknown> };
}

/** Where an ephemeral message came from: the Web API, a response_url, or a command's ack body. */
export type EphemeralSource = "api" | "response_url" | "ack";

/** An ephemeral message: visible to one user in one channel, never stored in history. */
export interface SandboxEphemeral {
  channel: string;
  user: string;
  message_ts: string;
  text: string;
  blocks?: Block[];
  thread_ts?: string;
  source: EphemeralSource;
  edits: number;
}

/** A modal opened by views.open; `view` holds what Slack would return, with id, hash and state. */
export interface SandboxView {
  id: string;
  user: string;
  view: Record<string, unknown>;
  open: boolean;
  updates: number;
}

/** Where a file was shared: a channel and, for thread shares, the thread. */
export interface SandboxFileShare {
  channel: string;
  ts: string;
  thread_ts?: string;
}

/** A file going through the upload trio: reserved, bytes received, then completed and shared. */
export interface SandboxFile {
  id: string;
  name: string;
  title: string;
  /** The length declared to files.getUploadURLExternal. */
  length: number;
  alt_text?: string;
  bytes?: Buffer;
  completed: boolean;
  shares: SandboxFileShare[];
}

/** One request the sandbox answered: Web API methods, uploads (`upload`) and `response_url` posts. */
export interface RequestLogEntry {
  seq: number;
  method: string;
  args: Record<string, unknown>;
  status: number;
  response: unknown;
  /** Epoch ms (workspace clock) when the request arrived. */
  at: number;
  /** Set when a scripted fault decided the answer. */
  fault?: string;
}

/** A message or ephemeral removed by delete_original or chat.delete. */
export interface SandboxDeletion {
  channel: string;
  ts: string;
  ephemeral: boolean;
}
