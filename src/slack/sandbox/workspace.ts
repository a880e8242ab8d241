import { normalizeBlocks } from "./block-normalize.js";
import { TypedEmitter } from "./emitter.js";
import { SandboxFaults } from "./faults.js";
import { createIdFactory, randomToken } from "./ids.js";
import { ResponseUrlRegistry } from "./response-url-registry.js";
import { SandboxTokens } from "./tokens.js";
import { TriggerRegistry } from "./trigger-registry.js";
import { compareTs, createTsClock } from "./ts-clock.js";
import type {
  Block,
  EphemeralSource,
  RequestLogEntry,
  SandboxChannel,
  SandboxDeletion,
  SandboxEphemeral,
  SandboxFile,
  SandboxMessage,
  SandboxTeam,
  SandboxUser,
  SandboxUserGroup,
  SandboxView,
} from "./types.js";

/** The bot's identity in every sandbox workspace. */
export const SANDBOX_BOT = {
  userId: "U0MLOPSBOT",
  botId: "B0MLOPSBOT",
  appId: "A0MLOPSBOT",
  name: "mlops",
} as const;

/** A user as given in a seed; id generated when absent. */
export interface SandboxSeedUser {
  id?: string;
  name: string;
  real_name?: string;
  tz?: string;
}

/** The initial directory of a sandbox workspace. */
export interface SandboxSeed {
  team?: { id: string; name: string; domain?: string };
  users?: SandboxSeedUser[];
  channels?: { id?: string; name: string }[];
  userGroups?: { id?: string; handle: string; name: string; users: string[] }[];
}

/** Options that are not part of the seed. */
export interface SandboxWorkspaceOptions {
  /** Epoch-ms clock for ts, trigger and response_url expiry, and fault windows. */
  clock?: () => number;
}

/** Events a workspace emits; the key is the event name, the value its payload. */
export type SandboxEvents = {
  message: SandboxMessage;
  update: SandboxMessage;
  ephemeral: SandboxEphemeral;
  view: SandboxView;
  file: SandboxFile;
  reaction: { channel: string; ts: string; name: string; user: string };
  delete: SandboxDeletion;
  request: RequestLogEntry;
};

/** What to post with `postMessage`. */
export interface PostMessageInput {
  /** Channel id or name (`#name` or `name`). */
  channel: string;
  /** Author; defaults to the bot. */
  user?: string;
  text?: string;
  blocks?: Block[];
  attachments?: unknown[];
  thread_ts?: string;
  reply_broadcast?: boolean;
  files?: string[];
  metadata?: SandboxMessage["metadata"];
}

/** What to change with `updateMessage` / `updateEphemeral`. */
export interface MessagePatch {
  text?: string;
  blocks?: Block[];
  attachments?: unknown[];
}

/** What to show with `postEphemeral`. */
export interface PostEphemeralInput {
  channel: string;
  user: string;
  text?: string;
  blocks?: Block[];
  thread_ts?: string;
  source?: EphemeralSource;
}

/** What to share with `completeUpload`. */
export interface CompleteUploadInput {
  files: { id: string; title?: string }[];
  channel?: string;
  thread_ts?: string;
  initial_comment?: string;
  blocks?: Block[];
}

const DEFAULT_TEAM: SandboxTeam = { id: "T0SANDBOX", name: "MLOps Sandbox", domain: "mlops-sandbox" };

function bareName(name: string, sigil: string): string {
  return name.startsWith(sigil) ? name.slice(sigil.length) : name;
}

function byTs(a: { ts: string }, b: { ts: string }): number {
  return compareTs(a.ts, b.ts);
}

/** An in-memory Slack workspace: directory, channels, messages, ephemerals, views, files and a request log. */
export class SandboxWorkspace {
  /** The workspace's team. */
  readonly team: SandboxTeam;
  /** The bot's identity. */
  readonly bot = SANDBOX_BOT;
  /** Epoch-ms clock used for every time decision. */
  readonly clock: () => number;
  /** Scripted outages applied before the Web API answers. */
  readonly faults: SandboxFaults;
  /** Tokens issued or revoked besides the server's own (token rotation in tests). */
  readonly tokens = new SandboxTokens();
  /** trigger_ids issued by the driver and exchanged by views.open. */
  readonly triggers: TriggerRegistry;
  /** response_urls issued by the driver and used by the bot. */
  readonly responseUrls: ResponseUrlRegistry;

  readonly #ids = createIdFactory();
  readonly #nextTs: () => string;
  readonly #events = new TypedEmitter<SandboxEvents>();
  readonly #users = new Map<string, SandboxUser>();
  readonly #channels = new Map<string, SandboxChannel>();
  readonly #groups = new Map<string, SandboxUserGroup>();
  readonly #messages = new Map<string, SandboxMessage[]>();
  readonly #dms = new Map<string, string>();
  readonly #ephemerals: SandboxEphemeral[] = [];
  readonly #views = new Map<string, SandboxView>();
  readonly #files = new Map<string, SandboxFile>();
  readonly #requests: RequestLogEntry[] = [];

  constructor(seed: SandboxSeed = {}, options: SandboxWorkspaceOptions = {}) {
    this.clock = options.clock ?? Date.now;
    this.#nextTs = createTsClock(this.clock);
    this.faults = new SandboxFaults(this.clock);
    this.triggers = new TriggerRegistry(this.clock);
    this.responseUrls = new ResponseUrlRegistry(this.clock);
    const team = seed.team;
    this.team = team
      ? {
          id: team.id,
          name: team.name,
          domain: team.domain ?? team.name.toLowerCase().replace(/[^a-z0-9]+/g, "-"),
        }
      : { ...DEFAULT_TEAM };
    this.#users.set(SANDBOX_BOT.userId, {
      id: SANDBOX_BOT.userId,
      name: SANDBOX_BOT.name,
      real_name: "MLOps Bot",
      tz: "Etc/UTC",
      is_bot: true,
    });
    for (const user of seed.users ?? []) this.addUser(user);
    for (const channel of seed.channels ?? []) this.addChannel(channel);
    for (const group of seed.userGroups ?? []) this.addUserGroup(group);
  }

  /** Subscribes to workspace events (message, update, ephemeral, view, file, reaction, delete, request); returns an unsubscribe function. */
  on<K extends keyof SandboxEvents & string>(
    event: K,
    listener: (payload: SandboxEvents[K]) => void,
  ): () => void {
    return this.#events.on(event, listener);
  }

  /** The next Slack ts: strictly increasing, unique. */
  nextTs(): string {
    return this.#nextTs();
  }

  // ── directory ────────────────────────────────────────────────────────────

  /** Adds a user (id generated when absent); throws on a duplicate id or name. */
  addUser(seed: SandboxSeedUser): SandboxUser {
    const name = bareName(seed.name, "@");
    if (seed.id && this.#users.has(seed.id)) throw new Error(`sandbox: duplicate user id ${seed.id}`);
    if (this.userByName(name)) throw new Error(`sandbox: duplicate user name ${name}`);
    const id = seed.id ?? this.#ids.next("U", (candidate) => this.#users.has(candidate));
    const user: SandboxUser = {
      id,
      name,
      real_name: seed.real_name ?? name,
      tz: seed.tz ?? "Etc/UTC",
      is_bot: false,
    };
    this.#users.set(id, user);
    return user;
  }

  /** Every user, the bot included. */
  users(): SandboxUser[] {
    return [...this.#users.values()];
  }

  /** A user by id. */
  user(id: string): SandboxUser | undefined {
    return this.#users.get(id);
  }

  /** A user by name (`alice` or `@alice`). */
  userByName(name: string): SandboxUser | undefined {
    const bare = bareName(name, "@");
    return this.users().find((user) => user.name === bare);
  }

  /** Adds a public channel (id generated when absent); throws on a duplicate id or name. */
  addChannel(seed: { id?: string; name: string }): SandboxChannel {
    const name = bareName(seed.name, "#");
    if (seed.id && this.#channels.has(seed.id)) throw new Error(`sandbox: duplicate channel id ${seed.id}`);
    if (this.channelByName(name)) throw new Error(`sandbox: duplicate channel name #${name}`);
    const id = seed.id ?? this.#ids.next("C", (candidate) => this.#channels.has(candidate));
    const channel: SandboxChannel = { id, name, kind: "channel", members: [] };
    this.#channels.set(id, channel);
    this.#messages.set(id, []);
    return channel;
  }

  /** Every channel, DMs included. */
  channels(): SandboxChannel[] {
    return [...this.#channels.values()];
  }

  /** A channel by id. */
  channel(id: string): SandboxChannel | undefined {
    return this.#channels.get(id);
  }

  /** A public channel by name (`alerts` or `#alerts`). */
  channelByName(name: string): SandboxChannel | undefined {
    const bare = bareName(name, "#");
    return this.channels().find((channel) => channel.kind === "channel" && channel.name === bare);
  }

  /** A channel by id or name, the way Slack accepts `channel` arguments. */
  resolveChannel(idOrName: string): SandboxChannel | undefined {
    return this.#channels.get(idOrName) ?? this.channelByName(idOrName);
  }

  /** Like `resolveChannel`, but throws when the channel does not exist. */
  requireChannel(idOrName: string): SandboxChannel {
    const channel = this.resolveChannel(idOrName);
    if (!channel) throw new Error(`sandbox: no channel ${idOrName}`);
    return channel;
  }

  /** Opens (or reopens) the DM with these users: the same channel every time. Throws on an unknown user. */
  openDm(userIds: string[]): { channel: SandboxChannel; alreadyOpen: boolean } {
    const members = [...new Set(userIds)].sort();
    for (const id of members) if (!this.#users.has(id)) throw new Error(`sandbox: no user ${id}`);
    const key = members.join(",");
    const existing = this.#dms.get(key);
    const existingChannel = existing ? this.#channels.get(existing) : undefined;
    if (existingChannel) return { channel: existingChannel, alreadyOpen: true };
    const kind = members.length === 1 ? "im" : "mpim";
    const id = this.#ids.next(kind === "im" ? "D" : "G", (candidate) => this.#channels.has(candidate));
    const name = members.map((member) => this.#users.get(member)?.name ?? member).join("--");
    const channel: SandboxChannel = { id, name, kind, members };
    this.#channels.set(id, channel);
    this.#messages.set(id, []);
    this.#dms.set(key, id);
    return { channel, alreadyOpen: false };
  }

  /** How a channel reads in logs: `#alerts`, `@alice (DM)`. */
  channelLabel(id: string): string {
    const channel = this.#channels.get(id);
    if (!channel) return id;
    return channel.kind === "channel" ? `#${channel.name}` : `@${channel.name} (DM)`;
  }

  /** Adds a user group (id generated when absent); throws on unknown members or a duplicate handle. */
  addUserGroup(seed: { id?: string; handle: string; name: string; users: string[] }): SandboxUserGroup {
    const handle = bareName(seed.handle, "@");
    if (this.userGroupByHandle(handle)) throw new Error(`sandbox: duplicate user group @${handle}`);
    for (const id of seed.users)
      if (!this.#users.has(id)) throw new Error(`sandbox: user group @${handle}: no user ${id}`);
    const id = seed.id ?? this.#ids.next("S", (candidate) => this.#groups.has(candidate));
    const group: SandboxUserGroup = { id, handle, name: seed.name, users: [...seed.users] };
    this.#groups.set(id, group);
    return group;
  }

  /** Every user group. */
  userGroups(): SandboxUserGroup[] {
    return [...this.#groups.values()];
  }

  /** A user group by id. */
  userGroup(id: string): SandboxUserGroup | undefined {
    return this.#groups.get(id);
  }

  /** A user group by handle (`oncall` or `@oncall`). */
  userGroupByHandle(handle: string): SandboxUserGroup | undefined {
    const bare = bareName(handle, "@");
    return this.userGroups().find((group) => group.handle === bare);
  }

  // ── messages ─────────────────────────────────────────────────────────────

  /** Stores a message (as the bot unless `user` is given); throws on an unknown channel or thread. */
  postMessage(input: PostMessageInput): SandboxMessage {
    const channel = this.requireChannel(input.channel);
    const list = this.#messages.get(channel.id) ?? [];
    let parent: SandboxMessage | undefined;
    if (input.thread_ts) {
      parent = list.find((message) => message.ts === input.thread_ts);
      if (parent?.thread_ts && parent.thread_ts !== parent.ts) {
        const rootTs = parent.thread_ts;
        parent = list.find((message) => message.ts === rootTs);
      }
      if (!parent)
        throw new Error(`sandbox: no thread ${input.thread_ts} in ${this.channelLabel(channel.id)}`);
    }
    const user = input.user ?? SANDBOX_BOT.userId;
    const message: SandboxMessage = {
      type: "message",
      channel: channel.id,
      ts: this.nextTs(),
      user,
      text: input.text ?? "",
      reply_count: 0,
      reply_users: [],
      edits: 0,
      reactions: [],
      files: [...(input.files ?? [])],
    };
    if (user === SANDBOX_BOT.userId) message.bot_id = SANDBOX_BOT.botId;
    const blocks = normalizeBlocks(input.blocks);
    if (blocks) message.blocks = blocks;
    if (input.attachments) message.attachments = structuredClone(input.attachments);
    if (input.metadata) message.metadata = structuredClone(input.metadata);
    if (parent) {
      message.thread_ts = parent.ts;
      if (input.reply_broadcast) message.reply_broadcast = true;
      parent.thread_ts = parent.ts;
      parent.reply_count += 1;
      if (!parent.reply_users.includes(user)) parent.reply_users.push(user);
      parent.latest_reply = message.ts;
    }
    list.push(message);
    this.#messages.set(channel.id, list);
    this.#events.emit("message", message);
    return message;
  }

  /** Edits a stored message, counting the edit; undefined when there is no such message. */
  updateMessage(
    channel: string,
    ts: string,
    patch: MessagePatch,
    editor: string = SANDBOX_BOT.userId,
  ): SandboxMessage | undefined {
    const message = this.message(channel, ts);
    if (!message) return undefined;
    if (patch.text !== undefined) message.text = patch.text;
    if (patch.blocks !== undefined) message.blocks = normalizeBlocks(patch.blocks);
    if (patch.attachments !== undefined) message.attachments = structuredClone(patch.attachments);
    message.edits += 1;
    message.edited = { user: editor, ts: this.nextTs() };
    this.#events.emit("update", message);
    return message;
  }

  /** Removes a message (a reply also leaves its parent's reply count); false when there is no such message. */
  deleteMessage(channel: string, ts: string): boolean {
    const resolved = this.resolveChannel(channel);
    const list = resolved ? this.#messages.get(resolved.id) : undefined;
    const index = list?.findIndex((message) => message.ts === ts) ?? -1;
    if (!resolved || !list || index < 0) return false;
    const [removed] = list.splice(index, 1);
    if (removed?.thread_ts && removed.thread_ts !== removed.ts) {
      const parent = list.find((message) => message.ts === removed.thread_ts);
      if (parent) parent.reply_count = Math.max(0, parent.reply_count - 1);
    }
    this.#events.emit("delete", { channel: resolved.id, ts, ephemeral: false });
    return true;
  }

  /** One message by channel (id or name) and ts. */
  message(channel: string, ts: string): SandboxMessage | undefined {
    const resolved = this.resolveChannel(channel);
    return resolved ? this.#messages.get(resolved.id)?.find((message) => message.ts === ts) : undefined;
  }

  /** A channel's history as Slack shows it: top-level messages and broadcast replies, oldest first. */
  messages(channel: string): SandboxMessage[] {
    return this.allMessages(channel).filter(
      (message) => !message.thread_ts || message.thread_ts === message.ts || message.reply_broadcast,
    );
  }

  /** Every message including thread replies, oldest first; across all channels when none is given. */
  allMessages(channel?: string): SandboxMessage[] {
    if (channel !== undefined) {
      const resolved = this.resolveChannel(channel);
      return resolved ? [...(this.#messages.get(resolved.id) ?? [])] : [];
    }
    return [...this.#messages.values()].flat().sort(byTs);
  }

  /** A thread: the parent followed by its replies, oldest first; empty when there is no such message. */
  thread(channel: string, ts: string): SandboxMessage[] {
    const parent = this.message(channel, ts);
    if (!parent) return [];
    const rootTs = parent.thread_ts ?? parent.ts;
    return this.allMessages(channel).filter(
      (message) => message.ts === rootTs || message.thread_ts === rootTs,
    );
  }

  /** The first message (oldest first, all channels) that matches. */
  findMessage(predicate: (message: SandboxMessage) => boolean): SandboxMessage | undefined {
    return this.allMessages().find(predicate);
  }

  /** Every message (oldest first, all channels) that matches. */
  findMessages(predicate: (message: SandboxMessage) => boolean): SandboxMessage[] {
    return this.allMessages().filter(predicate);
  }

  /** The newest message, replies included, in one channel or anywhere. */
  lastMessage(channel?: string): SandboxMessage | undefined {
    return this.allMessages(channel).at(-1);
  }

  /** Adds the user's reaction; Slack's error codes when the message is missing or the reaction exists. */
  addReaction(
    channel: string,
    ts: string,
    name: string,
    user: string = SANDBOX_BOT.userId,
  ): "ok" | "already_reacted" | "message_not_found" {
    const message = this.message(channel, ts);
    if (!message) return "message_not_found";
    const bare = name.replace(/^:|:$/g, "");
    let reaction = message.reactions.find((candidate) => candidate.name === bare);
    if (reaction?.users.includes(user)) return "already_reacted";
    if (!reaction) {
      reaction = { name: bare, users: [] };
      message.reactions.push(reaction);
    }
    reaction.users.push(user);
    this.#events.emit("reaction", { channel: message.channel, ts, name: bare, user });
    return "ok";
  }

  // ── ephemerals ───────────────────────────────────────────────────────────

  /** Shows an ephemeral message to one user; throws on an unknown channel. */
  postEphemeral(input: PostEphemeralInput): SandboxEphemeral {
    const channel = this.requireChannel(input.channel);
    const ephemeral: SandboxEphemeral = {
      channel: channel.id,
      user: input.user,
      message_ts: this.nextTs(),
      text: input.text ?? "",
      source: input.source ?? "api",
      edits: 0,
    };
    const blocks = normalizeBlocks(input.blocks);
    if (blocks) ephemeral.blocks = blocks;
    if (input.thread_ts) ephemeral.thread_ts = input.thread_ts;
    this.#ephemerals.push(ephemeral);
    this.#events.emit("ephemeral", ephemeral);
    return ephemeral;
  }

  /** Ephemeral messages, oldest first, optionally only those shown to one user. */
  ephemerals(userId?: string): SandboxEphemeral[] {
    return this.#ephemerals.filter((ephemeral) => userId === undefined || ephemeral.user === userId);
  }

  /** One ephemeral by channel and message_ts. */
  ephemeral(channel: string, messageTs: string): SandboxEphemeral | undefined {
    const id = this.resolveChannel(channel)?.id ?? channel;
    return this.#ephemerals.find(
      (ephemeral) => ephemeral.channel === id && ephemeral.message_ts === messageTs,
    );
  }

  /** Replaces an ephemeral's content in place (response_url `replace_original`). */
  updateEphemeral(channel: string, messageTs: string, patch: MessagePatch): SandboxEphemeral | undefined {
    const ephemeral = this.ephemeral(channel, messageTs);
    if (!ephemeral) return undefined;
    if (patch.text !== undefined) ephemeral.text = patch.text;
    if (patch.blocks !== undefined) ephemeral.blocks = normalizeBlocks(patch.blocks);
    ephemeral.edits += 1;
    this.#events.emit("ephemeral", ephemeral);
    return ephemeral;
  }

  /** Removes an ephemeral (response_url `delete_original`). */
  deleteEphemeral(channel: string, messageTs: string): boolean {
    const ephemeral = this.ephemeral(channel, messageTs);
    if (!ephemeral) return false;
    this.#ephemerals.splice(this.#ephemerals.indexOf(ephemeral), 1);
    this.#events.emit("delete", { channel: ephemeral.channel, ts: messageTs, ephemeral: true });
    return true;
  }

  // ── views ────────────────────────────────────────────────────────────────

  /** Opens a modal for a user; fills in id, hash, state and the other fields Slack returns. */
  openView(userId: string, view: Record<string, unknown>): SandboxView {
    const id = this.#ids.next("V", (candidate) => this.#views.has(candidate));
    const stored: SandboxView = {
      id,
      user: userId,
      view: this.#viewPayload(id, view),
      open: true,
      updates: 0,
    };
    this.#views.set(id, stored);
    this.#events.emit("view", stored);
    return stored;
  }

  /** Replaces an open view's content, keeping its id; undefined when there is no such view. */
  updateView(viewId: string, view: Record<string, unknown>): SandboxView | undefined {
    const stored = this.#views.get(viewId);
    if (!stored) return undefined;
    stored.view = this.#viewPayload(viewId, view);
    stored.updates += 1;
    this.#events.emit("view", stored);
    return stored;
  }

  /** Marks a view closed (after a submission or `response_action: clear`). */
  closeView(viewId: string): void {
    const stored = this.#views.get(viewId);
    if (!stored?.open) return;
    stored.open = false;
    this.#events.emit("view", stored);
  }

  /** A view by id. */
  view(viewId: string): SandboxView | undefined {
    return this.#views.get(viewId);
  }

  /** A view by the external_id the bot gave it. */
  viewByExternalId(externalId: string): SandboxView | undefined {
    return [...this.#views.values()].find(
      (view) => externalId !== "" && view.view.external_id === externalId,
    );
  }

  /** Every view, oldest first, optionally only one user's. */
  views(userId?: string): SandboxView[] {
    return [...this.#views.values()].filter((view) => userId === undefined || view.user === userId);
  }

  #viewPayload(id: string, view: Record<string, unknown>): Record<string, unknown> {
    return {
      type: "modal",
      private_metadata: "",
      callback_id: "",
      external_id: "",
      clear_on_close: false,
      notify_on_close: false,
      ...structuredClone(view),
      id,
      team_id: this.team.id,
      blocks: normalizeBlocks(Array.isArray(view.blocks) ? (view.blocks as Block[]) : []),
      state: { values: {} },
      hash: `${Math.floor(this.clock() / 1000)}.${randomToken(4)}`,
      root_view_id: id,
      previous_view_id: null,
      app_id: SANDBOX_BOT.appId,
      bot_id: SANDBOX_BOT.botId,
    };
  }

  // ── files ────────────────────────────────────────────────────────────────

  /** Reserves a file id for an upload (files.getUploadURLExternal). */
  reserveFile(name: string, length: number, altText?: string): SandboxFile {
    const id = this.#ids.next("F", (candidate) => this.#files.has(candidate));
    const file: SandboxFile = { id, name, title: name, length, completed: false, shares: [] };
    if (altText) file.alt_text = altText;
    this.#files.set(id, file);
    return file;
  }

  /** Stores the bytes posted to a file's upload_url; undefined when the id was never reserved. */
  receiveFileBytes(id: string, bytes: Buffer): SandboxFile | undefined {
    const file = this.#files.get(id);
    if (!file) return undefined;
    file.bytes = bytes;
    return file;
  }

  /** Completes uploads: titles the files and, with a channel, shares them in one message (in the thread if given). Throws on unknown or byte-less files, an unknown channel or thread. */
  completeUpload(input: CompleteUploadInput): { files: SandboxFile[]; message?: SandboxMessage } {
    const files = input.files.map(({ id }) => {
      const file = this.#files.get(id);
      if (!file?.bytes) throw new Error(`sandbox: file ${id} was not uploaded`);
      return file;
    });
    input.files.forEach(({ title }, index) => {
      const file = files[index];
      if (file && title) file.title = title;
    });
    let message: SandboxMessage | undefined;
    if (input.channel) {
      message = this.postMessage({
        channel: input.channel,
        text: input.initial_comment ?? "",
        files: files.map((file) => file.id),
        ...(input.blocks ? { blocks: input.blocks } : {}),
        ...(input.thread_ts ? { thread_ts: input.thread_ts } : {}),
      });
      for (const file of files) {
        file.shares.push({
          channel: message.channel,
          ts: message.ts,
          ...(message.thread_ts ? { thread_ts: message.thread_ts } : {}),
        });
      }
    }
    for (const file of files) {
      file.completed = true;
      this.#events.emit("file", file);
    }
    return message ? { files, message } : { files };
  }

  /** A file by id. */
  file(id: string): SandboxFile | undefined {
    return this.#files.get(id);
  }

  /** Every file, oldest first. */
  files(): SandboxFile[] {
    return [...this.#files.values()];
  }

  // ── request log ──────────────────────────────────────────────────────────

  /** Appends to the request log and emits `request`. */
  recordRequest(entry: Omit<RequestLogEntry, "seq">): RequestLogEntry {
    const logged: RequestLogEntry = { seq: this.#requests.length + 1, ...entry };
    this.#requests.push(logged);
    this.#events.emit("request", logged);
    return logged;
  }

  /** The request log, oldest first, optionally for one method. */
  requests(method?: string): RequestLogEntry[] {
    return this.#requests.filter((entry) => method === undefined || entry.method === method);
  }
}
