/**
 * A lease running out mid-send with two dispatchers: sender A's claim expires while it stalls
 * after Slack answered 503 (a GC pause, a long upload); B takes the row back and posts it. A's late
 * "retry later" must not undo B's delivery: the row is posted once and ends `sent`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../src/db/index.js";
import {
  createOutboxRepository,
  type OutboxDispatcher,
  type OutboxRepository,
} from "../../src/outbox/index.js";
import type { SandboxServer } from "../../src/slack/sandbox/index.js";
import { openTestDatabase } from "../helpers/db.js";
import { sandboxDispatcher, startOutboxSandbox, waitUntil } from "../outbox/helpers.js";

let database: Database;
let sandbox: SandboxServer;
let repo: OutboxRepository;
const running: OutboxDispatcher[] = [];

beforeAll(async () => {
  database = await openTestDatabase();
  sandbox = await startOutboxSandbox();
  repo = createOutboxRepository(database.db);
});
afterAll(async () => {
  await Promise.all(running.map((d) => d.stop()));
  await sandbox?.close();
  await database?.close();
});

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe("a lease expiring mid-send with two dispatchers", () => {
  it("posts once and leaves the row sent, although the stale sender reports a failure afterwards", async () => {
    const channel = sandbox.workspace.addChannel({ name: "lease-expiry" }).id;
    sandbox.workspace.faults.add({ method: "chat.postMessage", kind: "http_error", status: 503, times: 1 });
    const id = await repo.enqueue(
      { method: "chat.postMessage", channel, payload: { text: "once" } },
      new Date(),
    );

    const bPosted = deferred();
    // A: Slack answers 503, then A stalls until B has posted the row, and only then reports the 503.
    // One send at a time: with a free slot, A's own loop could claim the row again once B released
    // it, post it itself and stall that send for good, so B would never post and A never stop.
    const a = sandboxDispatcher(
      database,
      sandbox,
      { leaseMs: 300, releaseEveryMs: 1_000_000, concurrency: 1 },
      {
        wrap: (t) => ({
          ...t,
          async deliver(d) {
            const outcome = await t.deliver(d);
            await bPosted.promise;
            return outcome;
          },
        }),
      },
    );
    running.push(a);
    await a.start();
    await waitUntil("A's attempt to be answered 503", () =>
      sandbox.workspace.requests("chat.postMessage").some((r) => r.status === 503),
    );
    // B: takes the row back once A's lease ran out, posts it, and records that only after A has
    // recorded its stale outcome (A's stop() waits for its send to finish).
    const b = sandboxDispatcher(
      database,
      sandbox,
      { releaseEveryMs: 20 },
      {
        wrap: (t) => ({
          ...t,
          async deliver(d) {
            const outcome = await t.deliver(d);
            if (outcome.kind === "delivered") {
              bPosted.resolve();
              await a.stop();
            }
            return outcome;
          },
        }),
      },
    );
    running.push(b);
    await b.start();

    await waitUntil("the row to be sent", async () => (await repo.byId(id))?.state === "sent", 15_000);
    const row = await repo.byId(id);
    expect(row?.state).toBe("sent");
    expect(row?.claimId).toBeNull();
    expect(row?.leaseUntil).toBeNull();
    const calls = sandbox.workspace.requests("chat.postMessage").filter((r) => r.args.channel === channel);
    expect(calls.map((c) => c.status)).toEqual([503, 200]);
    expect(sandbox.workspace.messages(channel).map((m) => m.text)).toEqual(["once"]);
    expect(row?.resultTs).toBe(sandbox.workspace.messages(channel)[0]?.ts);
  }, 30_000);
});
