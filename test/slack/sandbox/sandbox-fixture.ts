import { LogLevel, WebClient } from "@slack/web-api";
import {
  type SandboxSeed,
  type SandboxServer,
  startSandboxServer,
} from "../../../src/slack/sandbox/index.js";

/** The bot token the test sandboxes accept. */
export const TOKEN = "xoxb-sandbox-test";

/** A small workspace: two people, two channels, one on-call group. */
export const SEED: SandboxSeed = {
  team: { id: "T0SANDBOX", name: "ML Platform" },
  users: [
    { id: "U0ALICE", name: "alice", real_name: "Alice Doe", tz: "Europe/Berlin" },
    { id: "U0BOB", name: "bob", real_name: "Bob Roe", tz: "America/New_York" },
  ],
  channels: [{ id: "C0ALERTS", name: "ml-alerts" }, { name: "ml-ops" }],
  userGroups: [{ id: "S0ONCALL", handle: "ml-oncall", name: "ML on-call", users: ["U0ALICE", "U0BOB"] }],
};

/** A running sandbox and a WebClient pointed at it, without retries. */
export interface Fixture {
  server: SandboxServer;
  client: WebClient;
}

/** Starts a sandbox on a free port; close it with `fixture.server.close()`. */
export async function startFixture(
  options: { clock?: () => number; clientOptions?: ConstructorParameters<typeof WebClient>[1] } = {},
): Promise<Fixture> {
  const server = await startSandboxServer({
    token: TOKEN,
    seed: SEED,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const client = new WebClient(TOKEN, {
    slackApiUrl: server.apiUrl,
    retryConfig: { retries: 0 },
    logLevel: LogLevel.ERROR,
    ...options.clientOptions,
  });
  return { server, client };
}

/** A hand-driven clock for expiry tests. */
export function manualClock(start = 1_700_000_000_000): { now: () => number; advance: (ms: number) => void } {
  let current = start;
  return {
    now: () => current,
    advance: (ms) => {
      current += ms;
    },
  };
}

/** Runs a promise that should reject and returns what it rejected with. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to fail, but it succeeded");
}
