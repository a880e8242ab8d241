import { COMMAND_WORKING_TEXT } from "../commands/types.js";
import { signSlackRequest } from "../signature.js";
import { toApiMessage } from "./api-message.js";
import { applyResponse, type ResponseOutcome } from "./response-apply.js";
import type { ResponseTarget } from "./response-url-registry.js";
import type { SandboxSocketMode } from "./socket-hub.js";
import { formatTs } from "./ts-clock.js";
import type { Block, SandboxChannel, SandboxEphemeral, SandboxMessage, SandboxUser } from "./types.js";
import { buildViewState, type ViewInputValue } from "./view-state.js";
import type { SandboxWorkspace } from "./workspace.js";

/** The deprecated verification token Slack still sends; the bot must not rely on it. */
export const SANDBOX_VERIFICATION_TOKEN = "sandbox-verification-token";

/** Where the driver sends requests and how it signs them. */
export interface SandboxDriverOptions {
  /** The bot's Slack endpoint, e.g. `http://127.0.0.1:3000/slack/events`. */
  botUrl: string;
  signingSecret: string;
  workspace: SandboxWorkspace;
  /** Where this sandbox listens (its routes' base url), for response_urls. */
  sandboxBaseUrl: string;
  /** Epoch-ms clock for request timestamps and action_ts; defaults to `Date.now`. */
  clock?: () => number;
  /**
   * Socket Mode: commands and interactions go to the bot as envelopes over this connection instead
   * of signed HTTP posts (signing overrides then do not apply), and the ack's payload is the answer.
   */
  socket?: SandboxSocketMode;
}

/** Overrides for negative tests: a forged timestamp or signature, extra or replaced headers. */
export interface SigningOverrides {
  timestamp?: number | string;
  signature?: string;
  headers?: Record<string, string>;
}

/** Options of `command`. */
export interface CommandOptions extends SigningOverrides {
  /** Defaults to `/mlops`. */
  command?: string;
  /** Apply the ack body as Slack would (ephemeral reply, or in_channel); default true. */
  applyAck?: boolean;
  /** When the bot acks with "working on it", wait for its answer through the response_url; default true. */
  waitForLateAnswer?: boolean;
  /** How long to wait for that late answer; default 60 s. */
  lateAnswerWithinMs?: number;
}

/** Options of `clickButton`. */
export interface ClickOptions extends SigningOverrides {
  /** Overrides the value found on the button. */
  value?: string;
  /** Picks the button by block too, when an action_id repeats. */
  blockId?: string;
}

/** Options of `submitView`. */
export interface SubmitOptions extends SigningOverrides {
  /** Overrides the view's private_metadata in the payload. */
  privateMetadata?: string;
  /** Apply the ack's response_action (close, errors, update, push, clear) to the workspace; default true. */
  applyAck?: boolean;
}

/** What the bot answered, plus what was sent. */
export interface DriverResponse {
  status: number;
  /** Parsed JSON when possible, else the text ("" for an empty ack). */
  body: unknown;
  headers: Record<string, string>;
  /** The fields or payload the driver sent. */
  payload: Record<string, unknown>;
  /** What applying the ack body did, when it was applied. */
  ack?: ResponseOutcome;
  /** The body is a command's late answer, posted to its response_url after a "working on it" ack. */
  deferred?: boolean;
  /** Socket Mode: the envelope it was sent in. */
  envelopeId?: string;
}

/** A message or ephemeral that a user can click in. */
export type Clickable = SandboxMessage | SandboxEphemeral;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The first element of `type` (a button unless said) with this action_id, and its block. */
function findElement(
  blocks: readonly Block[],
  actionId: string,
  blockId?: string,
  type = "button",
): { block: Block; element: Record<string, unknown> } | undefined {
  for (const block of blocks) {
    if (blockId !== undefined && block.block_id !== blockId) continue;
    const candidates = [...(Array.isArray(block.elements) ? block.elements : []), block.accessory];
    for (const element of candidates) {
      if (isObject(element) && element.type === type && element.action_id === actionId)
        return { block, element };
    }
  }
  return undefined;
}

function channelName(channel: SandboxChannel): string {
  if (channel.kind === "im") return "directmessage";
  return channel.kind === "mpim" ? `mpdm-${channel.name}-1` : channel.name;
}

/** Plays Slack talking to the bot: signed slash commands, button clicks and modal submissions. */
export class SandboxDriver {
  readonly #botUrl: string;
  readonly #secret: string;
  readonly #workspace: SandboxWorkspace;
  readonly #base: string;
  readonly #clock: () => number;
  readonly #socket: SandboxSocketMode | undefined;

  constructor(options: SandboxDriverOptions) {
    this.#botUrl = options.botUrl;
    this.#secret = options.signingSecret;
    this.#workspace = options.workspace;
    this.#base = options.sandboxBaseUrl.endsWith("/") ? options.sandboxBaseUrl : `${options.sandboxBaseUrl}/`;
    this.#clock = options.clock ?? Date.now;
    this.#socket = options.socket;
  }

  /** Sends `/mlops <text>` from a user in a channel (id or name); applies the ack body as the command's reply. */
  async command(
    userId: string,
    channel: string,
    text: string,
    opts: CommandOptions = {},
  ): Promise<DriverResponse> {
    const user = this.#user(userId);
    const where = this.#workspace.requireChannel(channel);
    const target: ResponseTarget = { channel: where.id, user: user.id };
    const team = this.#workspace.team;
    const responseUrl = this.#responseUrl(target);
    const fields = {
      token: SANDBOX_VERIFICATION_TOKEN,
      team_id: team.id,
      team_domain: team.domain,
      channel_id: where.id,
      channel_name: channelName(where),
      user_id: user.id,
      user_name: user.name,
      command: opts.command ?? "/mlops",
      text,
      api_app_id: this.#workspace.bot.appId,
      is_enterprise_install: "false",
      response_url: responseUrl,
      trigger_id: this.#workspace.triggers.issue(user.id),
    };
    const response = await this.#post(new URLSearchParams(fields).toString(), opts, fields);
    if (opts.applyAck === false || response.status !== 200) return response;
    const ack = this.#ackPayload(response.body);
    const acked = ack ? { ...response, ack: applyResponse(this.#workspace, target, ack, "ack") } : response;
    // A command acknowledged with "working on it" answers through its response_url: wait for that
    // answer and return it as the body (`deferred` says it came late), as the person would read it.
    const ackText = (response.body as { text?: unknown } | null)?.text;
    if (ackText !== COMMAND_WORKING_TEXT || opts.waitForLateAnswer === false) return acked;
    const id = responseUrl.slice(responseUrl.lastIndexOf("/") + 1);
    const until = Date.now() + (opts.lateAnswerWithinMs ?? 60_000);
    while (Date.now() < until) {
      const [late] = this.#workspace.responseUrls.bodies(id);
      if (late !== undefined) return { ...acked, body: late, deferred: true };
      await new Promise((r) => setTimeout(r, 20));
    }
    return acked;
  }

  /** Clicks the button with this action_id in a message or ephemeral; value and block_id come from the message. Throws when there is no such button. */
  async clickButton(
    userId: string,
    message: Clickable,
    actionId: string,
    opts: ClickOptions = {},
  ): Promise<DriverResponse> {
    const user = this.#user(userId);
    const isEphemeral = "message_ts" in message;
    const ts = isEphemeral ? message.message_ts : message.ts;
    const current = isEphemeral
      ? this.#workspace.ephemeral(message.channel, ts)
      : this.#workspace.message(message.channel, ts);
    if (!current) throw new Error(`sandbox driver: message ${ts} no longer exists`);
    const found = findElement(current.blocks ?? [], actionId, opts.blockId);
    if (!found) throw new Error(`sandbox driver: no button with action_id "${actionId}" in message ${ts}`);
    const { element: button, block } = found;
    const value = opts.value ?? (typeof button.value === "string" ? button.value : undefined);
    return this.#postBlockAction(user, current, isEphemeral, opts, {
      type: "button",
      action_id: actionId,
      block_id: block.block_id,
      text: button.text,
      ...(value !== undefined ? { value } : {}),
      ...(typeof button.style === "string" ? { style: button.style } : {}),
    });
  }

  /**
   * Chooses an option of a static select in a message, as Slack sends it (`block_actions` with
   * `selected_option`). Throws when there is no such select or option.
   */
  async chooseOption(
    userId: string,
    message: SandboxMessage,
    actionId: string,
    value: string,
    opts: SigningOverrides & { anyValue?: boolean } = {},
  ): Promise<DriverResponse> {
    const user = this.#user(userId);
    const current = this.#workspace.message(message.channel, message.ts);
    if (!current) throw new Error(`sandbox driver: message ${message.ts} no longer exists`);
    const found = findElement(current.blocks ?? [], actionId, undefined, "static_select");
    if (!found)
      throw new Error(`sandbox driver: no select with action_id "${actionId}" in message ${message.ts}`);
    const options = Array.isArray(found.element.options) ? found.element.options : [];
    // `anyValue` sends a value the select does not offer, as a forged payload would.
    const option =
      options.find((o) => isObject(o) && o.value === value) ??
      (opts.anyValue ? { text: { type: "plain_text", text: value } } : undefined);
    if (!isObject(option)) throw new Error(`sandbox driver: no option "${value}" in select "${actionId}"`);
    return this.#postBlockAction(user, current, false, opts, {
      type: "static_select",
      action_id: actionId,
      block_id: found.block.block_id,
      selected_option: { text: option.text, value },
      ...(isObject(found.element.placeholder) ? { placeholder: found.element.placeholder } : {}),
    });
  }

  /**
   * Posts a signed `block_actions` payload for one action on `current` (a message, or an ephemeral
   * when `isEphemeral`), with the envelope Slack wraps around it: who, where, a trigger id and a
   * response_url for that message.
   */
  #postBlockAction(
    user: SandboxUser,
    current: SandboxMessage | SandboxEphemeral,
    isEphemeral: boolean,
    opts: SigningOverrides,
    action: Record<string, unknown>,
  ): Promise<DriverResponse> {
    const ts = "message_ts" in current ? current.message_ts : current.ts;
    const channel = this.#workspace.requireChannel(current.channel);
    const team = this.#workspace.team;
    const payload: Record<string, unknown> = {
      type: "block_actions",
      user: { id: user.id, username: user.name, name: user.name, team_id: team.id },
      api_app_id: this.#workspace.bot.appId,
      token: SANDBOX_VERIFICATION_TOKEN,
      container: { type: "message", message_ts: ts, channel_id: channel.id, is_ephemeral: isEphemeral },
      trigger_id: this.#workspace.triggers.issue(user.id),
      team: { id: team.id, domain: team.domain },
      enterprise: null,
      is_enterprise_install: false,
      channel: { id: channel.id, name: channelName(channel) },
      // Like Slack, payloads from ephemeral messages carry no `message`.
      ...(isEphemeral ? {} : { message: toApiMessage(this.#workspace, current as SandboxMessage) }),
      state: { values: {} },
      response_url: this.#responseUrl({
        channel: channel.id,
        user: user.id,
        messageTs: ts,
        isEphemeral,
        ...(current.thread_ts ? { threadTs: current.thread_ts } : {}),
      }),
      actions: [{ ...action, action_ts: this.#actionTs() }],
    };
    return this.#post(new URLSearchParams({ payload: JSON.stringify(payload) }).toString(), opts, payload);
  }

  /** Submits an open modal; `values` maps action_id (or block_id) to what the user entered. Applies the ack's response_action. */
  async submitView(
    userId: string,
    viewId: string,
    values: Record<string, ViewInputValue>,
    opts: SubmitOptions = {},
  ): Promise<DriverResponse> {
    const user = this.#user(userId);
    const stored = this.#workspace.view(viewId);
    if (!stored) throw new Error(`sandbox driver: no view ${viewId}`);
    if (!stored.open) throw new Error(`sandbox driver: view ${viewId} is closed`);
    if (stored.user !== user.id)
      throw new Error(`sandbox driver: view ${viewId} belongs to ${stored.user}, not ${user.id}`);
    const blocks = Array.isArray(stored.view.blocks) ? (stored.view.blocks as Block[]) : [];
    const team = this.#workspace.team;
    const payload: Record<string, unknown> = {
      type: "view_submission",
      team: { id: team.id, domain: team.domain },
      user: { id: user.id, username: user.name, name: user.name, team_id: team.id },
      api_app_id: this.#workspace.bot.appId,
      token: SANDBOX_VERIFICATION_TOKEN,
      trigger_id: this.#workspace.triggers.issue(user.id),
      view: {
        ...stored.view,
        ...(opts.privateMetadata !== undefined ? { private_metadata: opts.privateMetadata } : {}),
        state: { values: buildViewState(blocks, values) },
      },
      response_urls: [],
      enterprise: null,
      is_enterprise_install: false,
    };
    const response = await this.#post(
      new URLSearchParams({ payload: JSON.stringify(payload) }).toString(),
      opts,
      payload,
    );
    if (opts.applyAck !== false && response.status === 200)
      this.#applyViewAck(user.id, viewId, response.body);
    return response;
  }

  /** Posts a body with exactly these headers (no signing): for forged or malformed requests. */
  async rawPost(body: string | Buffer, headers: Record<string, string>): Promise<DriverResponse> {
    const response = await fetch(this.#botUrl, {
      method: "POST",
      headers,
      body: typeof body === "string" ? body : new Uint8Array(body),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text === "" ? "" : JSON.parse(text);
    } catch {
      parsed = text;
    }
    return {
      status: response.status,
      body: parsed,
      headers: Object.fromEntries(response.headers.entries()),
      payload: {},
    };
  }

  /** The headers Slack would send with this body: content type, timestamp and signature (overridable). */
  signedHeaders(body: string, overrides: SigningOverrides = {}): Record<string, string> {
    const timestamp = String(overrides.timestamp ?? Math.floor(this.#clock() / 1000));
    return {
      "content-type": "application/x-www-form-urlencoded",
      "x-slack-request-timestamp": timestamp,
      "x-slack-signature": overrides.signature ?? signSlackRequest(this.#secret, timestamp, body),
      ...overrides.headers,
    };
  }

  async #post(
    body: string,
    overrides: SigningOverrides,
    payload: Record<string, unknown>,
  ): Promise<DriverResponse> {
    if (this.#socket) {
      // Over Socket Mode a command's fields and an interaction's payload travel as the envelope's
      // payload; the ack's payload plays the HTTP response body (none: an empty 200).
      const type = typeof payload.type === "string" ? "interactive" : "slash_commands";
      const ack = await this.#socket.deliver(type, payload);
      return { status: 200, body: ack.payload ?? "", headers: {}, payload, envelopeId: ack.envelopeId };
    }
    const response = await this.rawPost(body, this.signedHeaders(body, overrides));
    return { ...response, payload };
  }

  #user(userId: string): SandboxUser {
    const user = this.#workspace.user(userId) ?? this.#workspace.userByName(userId);
    if (!user) throw new Error(`sandbox driver: no user ${userId}`);
    return user;
  }

  #responseUrl(target: ResponseTarget): string {
    return `${this.#base}response/${this.#workspace.responseUrls.issue(target)}`;
  }

  #actionTs(): string {
    return formatTs(Math.floor(this.#clock() * 1000));
  }

  #ackPayload(body: unknown): Record<string, unknown> | undefined {
    if (typeof body === "string") return body.trim() === "" ? undefined : { text: body };
    if (
      !isObject(body) ||
      (body.text === undefined && body.blocks === undefined && body.delete_original === undefined)
    )
      return undefined;
    return body;
  }

  #applyViewAck(userId: string, viewId: string, body: unknown): void {
    const action = isObject(body) ? body.response_action : undefined;
    if (action === "errors") return;
    if (action === "update" && isObject(body) && isObject(body.view)) {
      this.#workspace.updateView(viewId, body.view);
      return;
    }
    if (action === "push" && isObject(body) && isObject(body.view)) {
      this.#workspace.openView(userId, body.view);
      return;
    }
    if (action === "clear") {
      for (const view of this.#workspace.views(userId)) this.#workspace.closeView(view.id);
      return;
    }
    this.#workspace.closeView(viewId);
  }
}
