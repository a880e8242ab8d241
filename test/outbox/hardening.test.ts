/**
 * The outbox under the failures that used to lose or wedge it: a replica whose clock is ahead, a
 * bad token, a workspace-wide 429, and a row Slack never accepts.
 */
import { Registry } from "prom-client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../src/db/index.js";
import {
  createOutboxRepository,
  type OutboxDispatcher,
  type OutboxMessage,
  type OutboxRepository,
} from "../../src/outbox/index.js";
import type { SandboxServer } from "../../src/slack/sandbox/index.js";
import { openTestDatabase } from "../helpers/db.js";
import {
  sandboxDispatcher,
  sandboxTransport,
  startOutboxSandbox,
  type TestDispatcherExtras,
  waitUntil,
} from "./helpers.js";

let database: Database;
let sandbox: SandboxServer;
let repo: OutboxRepository;
const running: OutboxDispatcher[] = [];
let channelSeq = 0;

beforeAll(async () => {
  database = await openTestDatabase();
  sandbox = await startOutboxSandbox();
  repo = createOutboxRepository(database.db);
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((d) => d.stop()));
  sandbox.workspace.faults.clear();
});
afterAll(async () => {
  await sandbox?.close();
  await database?.close();
});

function newChannel(): string {
  return sandbox.workspace.addChannel({ name: `hardening-${++channelSeq}` }).id;
}

async function start(
  options: Parameters<typeof sandboxDispatcher>[2] = {},
  extras: TestDispatcherExtras = {},
): Promise<OutboxDispatcher> {
  const d = sandboxDispatcher(database, sandbox, options, extras);
  running.push(d);
  await d.start();
  return d;
}

function post(channel: string, text: string, extra: Partial<OutboxMessage> = {}): Promise<number> {
  return repo.enqueue({ method: "chat.postMessage", channel, payload: { text }, ...extra }, new Date());
}

async function settled(ids: number[]) {
  await waitUntil(`outbox rows ${ids.join(",")} to settle`, async () => {
    const rows = await repo.byIds(ids);
    return rows.length === ids.length && rows.every((r) => r.state !== "pending" && r.state !== "sending");
  });
  return repo.byIds(ids);
}

const postsTo = (channel: string) =>
  sandbox.workspace.requests("chat.postMessage").filter((r) => r.args.channel === channel);

describe("leases on the database's clock", () => {
  it("a replica whose clock runs 10 minutes ahead does not take back a live sender's claim", async () => {
    const channel = newChannel();
    // The first post to Slack takes 1.5 s: the claim is live (60 s lease) the whole time.
    sandbox.workspace.faults.add({ method: "chat.postMessage", kind: "slow", delayMs: 1500, times: 1 });
    const id = await post(channel, "slow but alive");
    await start();
    await waitUntil(
      "the first replica to claim the row",
      async () => (await repo.byId(id))?.state === "sending",
    );
    const ahead = { now: () => new Date(Date.now() + 10 * 60_000) };
    await start({ releaseEveryMs: 20 }, { clock: ahead });
    const [row] = await settled([id]);
    expect(row?.state).toBe("sent");
    expect(row?.attempts).toBe(1);
    expect(postsTo(channel)).toHaveLength(1);
    expect(sandbox.workspace.messages(channel).map((m) => m.text)).toEqual(["slow but alive"]);
  });
});

describe("workspace-wide Slack errors", () => {
  it("a revoked token pauses delivery without failing anything; once auth.test passes, each row goes out once", async () => {
    const channels = [newChannel(), newChannel()];
    // Every Web API call, auth.test included, is refused as a revoked token would be.
    const revoked = sandbox.workspace.faults.add({ kind: "ok_false", error: "token_revoked" });
    const ids: number[] = [];
    for (const c of channels) for (let i = 0; i < 3; i++) ids.push(await post(c, `m${i}`));
    const registry = new Registry();
    const d = await start({ probeEveryMs: 100 }, { registry });
    await waitUntil("the dispatcher to pause", () => d.paused() !== undefined);
    expect(d.paused()?.code).toBe("token_revoked");
    expect(d.paused()?.fix).toContain("SLACK_BOT_TOKEN");
    // It keeps asking Slack, and keeps failing nothing while Slack says no.
    await waitUntil("two failed probes", () => sandbox.workspace.requests("auth.test").length >= 2);
    const held = await repo.byIds(ids);
    expect(held.map((r) => r.state)).toEqual(ids.map(() => "pending"));
    expect(held.every((r) => r.attempts === 0)).toBe(true);
    expect(held.some((r) => r.lastError?.includes("token_revoked"))).toBe(true);
    const metrics = await registry.getSingleMetricAsString("mlops_outbox_pauses_total");
    expect(metrics).toContain('mlops_outbox_pauses_total{code="token_revoked"} 1');
    expect(await registry.getSingleMetricAsString("mlops_outbox_paused")).toContain("mlops_outbox_paused 1");

    sandbox.workspace.faults.remove(revoked);
    const rows = await settled(ids);
    expect(rows.map((r) => r.state)).toEqual(ids.map(() => "sent"));
    expect(d.paused()).toBeUndefined();
    for (const c of channels) {
      expect(sandbox.workspace.messages(c).map((m) => m.text)).toEqual(["m0", "m1", "m2"]);
      expect(postsTo(c).filter((r) => r.status === 200 && !r.fault)).toHaveLength(3);
    }
  });

  it("a pause after a sender died mid-send still looks in Slack before posting again: one message", async () => {
    const channel = newChannel();
    const id = await post(channel, "posted by a sender that died");
    // The dead sender: claims the row, gets it into Slack, and dies before recording it.
    const [claimed] = await repo.claim({
      now: new Date(),
      limit: 1,
      leaseMs: 200,
      pacing: { burst: 100, windowMs: 1000 },
    });
    expect(claimed?.id).toBe(id);
    const first = await sandboxTransport(sandbox).deliver({
      outboxId: id,
      method: "chat.postMessage",
      channel,
      payload: { text: "posted by a sender that died" },
    });
    expect(first.kind).toBe("delivered");
    // The token is refused when the next sender takes the row back: it cannot look, tries, pauses.
    const revoked = sandbox.workspace.faults.add({ kind: "ok_false", error: "token_revoked" });
    const d = await start({ probeEveryMs: 100, releaseEveryMs: 20 });
    await waitUntil("the dispatcher to pause", () => d.paused() !== undefined);
    sandbox.workspace.faults.remove(revoked);
    const [row] = await settled([id]);
    expect(row?.state).toBe("sent");
    expect(sandbox.workspace.messages(channel).map((m) => m.text)).toEqual(["posted by a sender that died"]);
    expect(row?.resultTs).toBe(sandbox.workspace.messages(channel)[0]?.ts);
  });

  it("a 429 on chat.update holds every chat.update back, in every channel, for Retry-After", async () => {
    const [a, b] = [newChannel(), newChannel()];
    const cards = [await post(a, "card a"), await post(b, "card b")];
    const first = await start();
    await settled(cards);
    await first.stop();
    sandbox.workspace.faults.add({ method: "chat.update", kind: "rate_limited", retryAfterSec: 1, times: 1 });
    const edits = [];
    for (const [i, c] of [a, b].entries())
      edits.push(
        await repo.enqueue(
          { method: "chat.update", channel: c, parentId: cards[i], payload: { text: `edited ${i}` } },
          new Date(),
        ),
      );
    await start({ concurrency: 1 });
    const rows = await settled(edits);
    expect(rows.map((r) => r.state)).toEqual(["sent", "sent"]);
    const updates = sandbox.workspace.requests("chat.update");
    const limited = updates.find((r) => r.status === 429);
    expect(limited).toBeDefined();
    const after = updates.filter((r) => r.status === 200);
    expect(after).toHaveLength(2);
    for (const r of after) expect(r.at - (limited?.at ?? 0)).toBeGreaterThanOrEqual(950);
    // A 429 is Slack asking to wait, not a failed attempt.
    expect(rows.map((r) => r.attempts)).toEqual([1, 1]);
  });
});

describe("dead letters", () => {
  it("a row Slack keeps answering 400 becomes a dead letter after max_attempts and no longer blocks its channel", async () => {
    const channel = newChannel();
    sandbox.workspace.faults.add({ method: "chat.postMessage", kind: "http_error", status: 400, times: 3 });
    const poison = await post(channel, "poison");
    const next = await post(channel, "next");
    await start({ maxAttempts: 3 });
    const rows = await settled([poison, next]);
    expect(rows.map((r) => r.state)).toEqual(["dead", "sent"]);
    expect(rows[0]?.attempts).toBe(3);
    expect(rows[0]?.lastError).toContain("HTTP 400");
    expect(rows[0]?.deadAt).toBeInstanceOf(Date);
    expect(sandbox.workspace.messages(channel).map((m) => m.text)).toEqual(["next"]);
    expect((await repo.deadLetters()).map((r) => r.id)).toContain(poison);
  });
});
