/** What a scripted fault does to a matching request. */
export type FaultKind = "rate_limited" | "http_error" | "ok_false" | "slow";

/** A scripted fault: which requests it hits, what it does, and for how long. */
export interface FaultRule {
  /** Web API method (`chat.postMessage`), a family (`chat.*`) or `*`; omitted means any Web API method. Uploads and response_url posts are hit only when named (`upload`, `response_url`). */
  method?: string;
  kind: FaultKind;
  /** rate_limited: the Retry-After header, in seconds (default 1). */
  retryAfterSec?: number;
  /** http_error: the HTTP status (default 503). */
  status?: number;
  /** ok_false: the `error` code (default `internal_error`). */
  error?: string;
  /** slow: how long to wait before answering normally (default 1000). */
  delayMs?: number;
  /** How many requests the rule hits before it is used up; omitted means no limit. */
  times?: number;
  /** Absolute epoch ms after which the rule no longer applies. */
  untilMs?: number;
}

/** A rule with its bookkeeping, as returned by `SandboxFaults.list()`. */
export interface ActiveFault extends FaultRule {
  id: number;
  hits: number;
}

/** What the sandbox should answer instead of (or before) the normal response. */
export type FaultOutcome =
  | { kind: "rate_limited"; status: 429; retryAfterSec: number }
  | { kind: "http_error"; status: number }
  | { kind: "ok_false"; status: 200; error: string }
  | { kind: "slow"; delayMs: number };

const SPECIAL_ROUTES = new Set(["upload", "response_url"]);

function matches(pattern: string | undefined, method: string): boolean {
  if (pattern === undefined || pattern === "*") return !SPECIAL_ROUTES.has(method);
  if (pattern.endsWith(".*")) return method.startsWith(pattern.slice(0, -1));
  return pattern === method;
}

/** Scriptable Slack outages: rules are checked in the order added, the first live match wins. */
export class SandboxFaults {
  readonly #rules: ActiveFault[] = [];
  readonly #clock: () => number;
  #nextId = 1;

  constructor(clock: () => number = Date.now) {
    this.#clock = clock;
  }

  /** Adds a rule; returns its id for `remove`. */
  add(rule: FaultRule): number {
    const id = this.#nextId++;
    this.#rules.push({ ...rule, id, hits: 0 });
    return id;
  }

  /** Removes one rule by id. */
  remove(id: number): void {
    const index = this.#rules.findIndex((rule) => rule.id === id);
    if (index >= 0) this.#rules.splice(index, 1);
  }

  /** Removes every rule. */
  clear(): void {
    this.#rules.length = 0;
  }

  /** The rules still live, with their hit counts. */
  list(): ActiveFault[] {
    this.#prune();
    return this.#rules.map((rule) => ({ ...rule }));
  }

  /** Finds the first live rule for this method, counts the hit, and says what to do; null when none applies. */
  take(method: string): FaultOutcome | null {
    this.#prune();
    const rule = this.#rules.find((candidate) => matches(candidate.method, method));
    if (!rule) return null;
    rule.hits += 1;
    if (rule.times !== undefined && rule.hits >= rule.times) this.remove(rule.id);
    switch (rule.kind) {
      case "rate_limited":
        return { kind: "rate_limited", status: 429, retryAfterSec: rule.retryAfterSec ?? 1 };
      case "http_error":
        return { kind: "http_error", status: rule.status ?? 503 };
      case "ok_false":
        return { kind: "ok_false", status: 200, error: rule.error ?? "internal_error" };
      case "slow":
        return { kind: "slow", delayMs: rule.delayMs ?? 1000 };
    }
  }

  #prune(): void {
    const now = this.#clock();
    for (let i = this.#rules.length - 1; i >= 0; i--) {
      const rule = this.#rules[i];
      if (!rule) continue;
      const expired = rule.untilMs !== undefined && now >= rule.untilMs;
      const usedUp = rule.times !== undefined && rule.hits >= rule.times;
      if (expired || usedUp) this.#rules.splice(i, 1);
    }
  }
}
