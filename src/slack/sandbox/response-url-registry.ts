import { randomToken } from "./ids.js";

/** How many times one response_url may be used. */
export const RESPONSE_URL_MAX_USES = 5;

/** How long a response_url stays usable. */
export const RESPONSE_URL_TTL_MS = 30 * 60 * 1000;

/** What a response_url answers: the invoking user, the channel, and the message it came from, if any. */
export interface ResponseTarget {
  channel: string;
  user: string;
  /** The message whose button was clicked; absent for slash commands. */
  messageTs?: string;
  /** True when `messageTs` is an ephemeral message. */
  isEphemeral?: boolean;
  threadTs?: string;
}

/** The result of using a response_url: its target, or why it was refused. */
export type ResponseUrlUse =
  | { ok: true; target: ResponseTarget; uses: number }
  | { ok: false; error: "no_service" | "expired_url" | "used_url" };

interface ResponseUrlRecord {
  target: ResponseTarget;
  issuedAt: number;
  uses: number;
  /** What was posted to it, in order (the driver reads a command's late answer here). */
  bodies: unknown[];
}

/** Issues response_url ids and enforces Slack's 5 uses / 30 minutes. */
export class ResponseUrlRegistry {
  readonly #urls = new Map<string, ResponseUrlRecord>();
  readonly #clock: () => number;

  constructor(clock: () => number) {
    this.#clock = clock;
  }

  /** Registers a response_url for one interaction; returns its id (the last path segment). */
  issue(target: ResponseTarget): string {
    const id = randomToken(12);
    this.#urls.set(id, { target: { ...target }, issuedAt: this.#clock(), uses: 0, bodies: [] });
    return id;
  }

  /** Looks a response_url up without using it. */
  peek(id: string): ResponseTarget | undefined {
    return this.#urls.get(id)?.target;
  }

  /** The bodies posted to a response_url so far. */
  bodies(id: string): readonly unknown[] {
    return this.#urls.get(id)?.bodies ?? [];
  }

  /** Counts one use; refuses unknown, expired (30 min) and used-up (5 uses) urls. */
  use(id: string, body?: unknown): ResponseUrlUse {
    const record = this.#urls.get(id);
    if (!record) return { ok: false, error: "no_service" };
    if (this.#clock() - record.issuedAt > RESPONSE_URL_TTL_MS) return { ok: false, error: "expired_url" };
    if (record.uses >= RESPONSE_URL_MAX_USES) return { ok: false, error: "used_url" };
    record.uses += 1;
    if (body !== undefined) record.bodies.push(body);
    return { ok: true, target: record.target, uses: record.uses };
  }
}
