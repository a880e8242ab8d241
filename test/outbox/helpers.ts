import type { Database } from "../../src/db/index.js";
import {
  createOutboxDispatcher,
  type DispatcherOptions,
  type OutboxDispatcher,
} from "../../src/outbox/index.js";
import { systemClock } from "../../src/shared/clock.js";
import { slackOutboxTransport } from "../../src/slack/outbox-transport.js";
import { type SandboxServer, startSandboxServer } from "../../src/slack/sandbox/index.js";
import { createSlackApi } from "../../src/slack/web-api.js";
import { testLogger } from "../helpers/db.js";

/** The bot token the outbox tests' sandbox accepts. */
export const TOKEN = "xoxb-outbox-test";

/** A standalone sandbox with one user; tests add a channel each. */
export function startOutboxSandbox(): Promise<SandboxServer> {
  return startSandboxServer({ token: TOKEN, seed: { users: [{ id: "U0ALICE", name: "alice" }] } });
}

/** A dispatcher delivering to `sandbox`, polling fast; stop it when done. */
export function sandboxDispatcher(
  database: Database,
  sandbox: SandboxServer,
  options: DispatcherOptions = {},
): OutboxDispatcher {
  const api = createSlackApi({ token: TOKEN, apiUrl: sandbox.apiUrl, logger: testLogger, timeoutMs: 5_000 });
  return createOutboxDispatcher(
    { db: database.db, transport: slackOutboxTransport(() => api), clock: systemClock, logger: testLogger },
    { pollMs: 20, ...options },
  );
}

/** Polls `check` until it returns true, failing after `timeoutMs` with `what`. */
export async function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000) {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
