import type { Registry } from "prom-client";
import type { Database } from "../../src/db/index.js";
import type { OutboxTransport } from "../../src/outbox/index.js";
import {
  createOutboxDispatcher,
  type DispatcherOptions,
  type OutboxDispatcher,
} from "../../src/outbox/index.js";
import { type Clock, systemClock } from "../../src/shared/clock.js";
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

/** How a test dispatcher differs from the plain one: its clock, or a transport wrapped to stall. */
export interface TestDispatcherExtras {
  clock?: Clock;
  wrap?: (transport: OutboxTransport) => OutboxTransport;
  registry?: Registry;
}

/** The Slack transport the dispatchers use, on `sandbox` (tests play a sender with it). */
export function sandboxTransport(sandbox: SandboxServer): OutboxTransport {
  const api = createSlackApi({ token: TOKEN, apiUrl: sandbox.apiUrl, logger: testLogger, timeoutMs: 5_000 });
  return slackOutboxTransport(() => api);
}

/** A dispatcher delivering to `sandbox`, polling fast; stop it when done. */
export function sandboxDispatcher(
  database: Database,
  sandbox: SandboxServer,
  options: DispatcherOptions = {},
  extras: TestDispatcherExtras = {},
): OutboxDispatcher {
  const transport = sandboxTransport(sandbox);
  return createOutboxDispatcher(
    {
      db: database.db,
      transport: extras.wrap ? extras.wrap(transport) : transport,
      clock: extras.clock ?? systemClock,
      logger: testLogger,
      ...(extras.registry ? { registry: extras.registry } : {}),
    },
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
