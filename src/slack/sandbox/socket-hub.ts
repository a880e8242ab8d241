import { EventEmitter } from "node:events";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { type WebSocket, WebSocketServer } from "ws";
import { randomToken } from "./ids.js";

/** The kinds of envelope Slack sends over a Socket Mode connection. */
export type EnvelopeType = "slash_commands" | "interactive" | "events_api";

/** Why the server asks a client to reconnect (Slack's `disconnect` reasons). */
export type DisconnectReason = "warning" | "refresh_requested" | "link_disabled";

/** One acknowledgement received: which envelope, on which connection, with what payload, how fast. */
export interface SocketAck {
  envelopeId: string;
  type: EnvelopeType;
  /** The ack's payload; undefined for an ack without one (or with an empty object). */
  payload: Record<string, unknown> | undefined;
  connection: number;
  /** From the envelope's first sending to its ack. */
  ackedAfterMs: number;
}

/** One sending of an envelope on a connection; a redelivery repeats the envelope id with a higher attempt. */
export interface SocketDelivery {
  envelopeId: string;
  type: EnvelopeType;
  connection: number;
  attempt: number;
}

/** Options of one envelope: how long `deliver` waits for its ack. */
export interface DeliverOptions {
  /** Default 30 s: long enough to span a reconnect, after which the envelope is redelivered. */
  ackWithinMs?: number;
}

interface Connection {
  id: number;
  ws: WebSocket;
  /** Told to reconnect: gets no new envelopes, its unacked ones go to the next connection. */
  draining: boolean;
}

interface Pending {
  id: string;
  type: EnvelopeType;
  payload: Record<string, unknown>;
  firstSentAt: number | undefined;
  attempts: number;
  /** The connection it is in flight on; undefined while it waits for one. */
  on: Connection | undefined;
  resolve(ack: SocketAck): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/** Options of the Socket Mode imitation. */
export interface SandboxSocketOptions {
  /** The only app-level token (`xapp-…`) `apps.connections.open` accepts. */
  appToken: string;
  /** Sent in `hello.connection_info`. */
  appId: string;
  /** How often the server pings each connection (Slack pings; clients time out without). Default 10 s. */
  pingIntervalMs?: number;
}

/**
 * Slack's Socket Mode, server side: tickets from `apps.connections.open`, WebSocket connections that
 * get `hello`, envelopes waiting for an ack by `envelope_id` (on any connection, with an optional
 * payload), `disconnect` messages, dropped sockets, and redelivery of unacknowledged envelopes on
 * the next connection, as Slack does. Emits `hello` (connection id) and `ack` (SocketAck).
 */
export class SandboxSocketMode extends EventEmitter {
  readonly appToken: string;
  /** Every ack received, in order (a redelivered envelope acked twice appears twice). */
  readonly acks: SocketAck[] = [];
  /** Every envelope sent, in order. */
  readonly deliveries: SocketDelivery[] = [];
  readonly #appId: string;
  readonly #wss = new WebSocketServer({ noServer: true });
  readonly #tickets = new Set<string>();
  readonly #connections = new Map<number, Connection>();
  readonly #pending = new Map<string, Pending>();
  readonly #acked = new Map<string, EnvelopeType>();
  readonly #ping: NodeJS.Timeout;
  #nextConnection = 0;

  constructor(options: SandboxSocketOptions) {
    super();
    this.appToken = options.appToken;
    this.#appId = options.appId;
    this.#ping = setInterval(() => {
      for (const c of this.#connections.values()) c.ws.ping();
    }, options.pingIntervalMs ?? 10_000);
    this.#ping.unref();
  }

  /** Issues a one-use ticket and returns the WebSocket URL for it under `wsBase` (ends with `/`). */
  openUrl(wsBase: string): string {
    const ticket = randomToken(16);
    this.#tickets.add(ticket);
    return `${wsBase}socket?ticket=${ticket}`;
  }

  /** Takes an HTTP upgrade to `<path>?ticket=…`; false (untouched) when the path is not `path`. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, path: string): boolean {
    const url = new URL(req.url ?? "/", "http://sandbox");
    if (url.pathname !== path) return false;
    const ticket = url.searchParams.get("ticket") ?? "";
    if (!this.#tickets.delete(ticket)) {
      socket.end("HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n");
      return true;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#accept(ws));
    return true;
  }

  /**
   * Sends an envelope to a connected client (or queues it until one connects) and resolves with
   * its ack. Unacked envelopes are redelivered when their connection closes.
   */
  deliver(
    type: EnvelopeType,
    payload: Record<string, unknown>,
    options: DeliverOptions = {},
  ): Promise<SocketAck> {
    const id = `sbx-${randomToken(8)}`;
    return new Promise<SocketAck>((resolve, reject) => {
      const ms = options.ackWithinMs ?? 30_000;
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`sandbox socket: envelope ${id} (${type}) was not acknowledged within ${ms} ms`));
      }, ms);
      const pending: Pending = {
        id,
        type,
        payload,
        firstSentAt: undefined,
        attempts: 0,
        on: undefined,
        resolve,
        reject,
        timer,
      };
      this.#pending.set(id, pending);
      this.#flush();
    });
  }

  /**
   * Sends `disconnect` to every open connection (the client should reconnect) and, like Slack,
   * closes a connection that is still open `closeAfterMs` later (default 10 s); returns how many.
   */
  disconnect(reason: DisconnectReason = "refresh_requested", closeAfterMs = 10_000): number {
    const open = [...this.#connections.values()].filter((c) => !c.draining);
    for (const c of open) {
      c.draining = true;
      c.ws.send(JSON.stringify({ type: "disconnect", reason, debug_info: { host: "sandbox" } }));
      setTimeout(() => c.ws.close(1001, "disconnected"), closeAfterMs).unref();
    }
    return open.length;
  }

  /** Drops every connection without a close frame, as a network failure would; returns how many. */
  drop(): number {
    const all = [...this.#connections.values()];
    for (const c of all) c.ws.terminate();
    return all.length;
  }

  /** Connections open now. */
  get connections(): number {
    return this.#connections.size;
  }

  /** Connections ever opened (each got a hello). */
  get opened(): number {
    return this.#nextConnection;
  }

  /** Envelopes sent and not acknowledged yet. */
  get unacknowledged(): number {
    return this.#pending.size;
  }

  /** Resolves once `count` connections have ever been opened and one is open; rejects after `withinMs`. */
  async waitForConnection(count = this.opened + 1, withinMs = 15_000): Promise<void> {
    const ready = () => this.opened >= count && [...this.#connections.values()].some((c) => !c.draining);
    if (ready()) return;
    await new Promise<void>((resolve, reject) => {
      const onHello = () => {
        if (!ready()) return;
        clearTimeout(timer);
        this.off("hello", onHello);
        resolve();
      };
      const timer = setTimeout(() => {
        this.off("hello", onHello);
        reject(new Error(`sandbox socket: connection ${count} did not open within ${withinMs} ms`));
      }, withinMs);
      this.on("hello", onHello);
    });
  }

  /** Closes every connection and fails every envelope still waiting. */
  async close(): Promise<void> {
    clearInterval(this.#ping);
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.reject(new Error("sandbox socket: closed"));
    }
    this.#pending.clear();
    for (const c of this.#connections.values()) c.ws.terminate();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }

  #accept(ws: WebSocket): void {
    this.#nextConnection += 1;
    const connection: Connection = { id: this.#nextConnection, ws, draining: false };
    this.#connections.set(connection.id, connection);
    ws.on("message", (data, isBinary) => {
      if (!isBinary) this.#onMessage(connection, data.toString());
    });
    ws.on("close", () => this.#closed(connection));
    ws.on("error", () => ws.terminate());
    ws.send(
      JSON.stringify({
        type: "hello",
        num_connections: this.#connections.size,
        connection_info: { app_id: this.#appId },
        debug_info: { host: "sandbox", build_number: 1, approximate_connection_time: 18_060 },
      }),
    );
    this.emit("hello", connection.id);
    this.#flush();
  }

  #onMessage(connection: Connection, text: string): void {
    let message: { envelope_id?: unknown; payload?: unknown };
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (typeof message.envelope_id !== "string") return;
    const pending = this.#pending.get(message.envelope_id);
    const payload =
      typeof message.payload === "object" && message.payload !== null && Object.keys(message.payload).length
        ? (message.payload as Record<string, unknown>)
        : undefined;
    if (!pending) {
      // A second ack of an envelope already acked (Slack ignores it); recorded for tests.
      const type = this.#acked.get(message.envelope_id);
      if (type) {
        this.acks.push({
          envelopeId: message.envelope_id,
          type,
          payload,
          connection: connection.id,
          ackedAfterMs: Number.NaN,
        });
      }
      return;
    }
    this.#pending.delete(pending.id);
    this.#acked.set(pending.id, pending.type);
    clearTimeout(pending.timer);
    const ack: SocketAck = {
      envelopeId: pending.id,
      type: pending.type,
      payload,
      connection: connection.id,
      ackedAfterMs: Date.now() - (pending.firstSentAt ?? Date.now()),
    };
    this.acks.push(ack);
    this.emit("ack", ack);
    pending.resolve(ack);
  }

  /** A closed connection's unacked envelopes wait for the next connection (Slack's redelivery). */
  #closed(connection: Connection): void {
    this.#connections.delete(connection.id);
    for (const p of this.#pending.values()) if (p.on === connection) p.on = undefined;
    this.#flush();
  }

  /** Sends every waiting envelope on the newest connection that is not draining. */
  #flush(): void {
    const target = [...this.#connections.values()].filter((c) => !c.draining).at(-1);
    if (!target) return;
    for (const p of this.#pending.values()) {
      if (p.on) continue;
      p.on = target;
      p.attempts += 1;
      p.firstSentAt ??= Date.now();
      this.deliveries.push({ envelopeId: p.id, type: p.type, connection: target.id, attempt: p.attempts });
      target.ws.send(
        JSON.stringify({
          envelope_id: p.id,
          type: p.type,
          payload: p.payload,
          accepts_response_payload: p.type !== "events_api",
          ...(p.type === "events_api" && p.attempts > 1
            ? { retry_attempt: p.attempts - 1, retry_reason: "timeout" }
            : {}),
        }),
      );
    }
  }
}
