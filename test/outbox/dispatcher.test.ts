import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../src/db/index.js";
import {
  createOutboxRepository,
  type OutboxDispatcher,
  type OutboxMessage,
  type OutboxRepository,
  type OutboxRow,
} from "../../src/outbox/index.js";
import type { SandboxServer } from "../../src/slack/sandbox/index.js";
import { openTestDatabase } from "../helpers/db.js";
import { sandboxDispatcher, startOutboxSandbox, waitUntil } from "./helpers.js";

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
  return sandbox.workspace.addChannel({ name: `outbox-${++channelSeq}` }).id;
}

async function start(options: Parameters<typeof sandboxDispatcher>[2] = {}): Promise<OutboxDispatcher> {
  const d = sandboxDispatcher(database, sandbox, options);
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

describe("the outbox dispatcher against the sandbox", () => {
  it("delivers a post and its replies in order, the replies in the post's thread, storing each ts", async () => {
    const channel = newChannel();
    const card = await post(channel, "card");
    const replies = [];
    for (let i = 1; i <= 5; i++) replies.push(await post(channel, `reply ${i}`, { parentId: card }));
    await start();
    const rows = await settled([card, ...replies]);
    const cardRow = rows.find((r) => r.id === card);
    expect(cardRow?.state).toBe("sent");
    const thread = sandbox.workspace.thread(channel, cardRow?.resultTs as string);
    expect(thread.map((m) => m.text)).toEqual([
      "card",
      "reply 1",
      "reply 2",
      "reply 3",
      "reply 4",
      "reply 5",
    ]);
    for (const r of rows) expect(sandbox.workspace.message(channel, r.resultTs as string)).toBeDefined();
    expect(sandbox.workspace.messages(channel)).toHaveLength(1);
  });

  it("an edit queued while its post is still waiting is folded into the post: one message, no chat.update", async () => {
    const channel = newChannel();
    const card = await post(channel, "first draft");
    const edit = await repo.enqueue(
      { method: "chat.update", channel, parentId: card, payload: { text: "final words" } },
      new Date(),
    );
    expect(edit).toBe(card);
    await start();
    await settled([card]);
    expect(sandbox.workspace.messages(channel).map((m) => [m.text, m.edits])).toEqual([["final words", 0]]);
    expect(sandbox.workspace.requests("chat.update").filter((r) => r.args.channel === channel)).toHaveLength(
      0,
    );
  });

  it("pending edits with one coalesce key collapse into one write carrying the newest content", async () => {
    const channel = newChannel();
    const card = await post(channel, "v0");
    const d = await start();
    await settled([card]);
    await d.stop();
    const edits = [];
    for (let i = 1; i <= 4; i++) {
      edits.push(
        await repo.enqueue(
          {
            method: "chat.update",
            channel,
            parentId: card,
            payload: { text: `v${i}` },
            coalesceKey: `card:${channel}`,
          },
          new Date(),
        ),
      );
    }
    expect(new Set(edits).size).toBe(1);
    await start();
    const rows = await settled(edits.slice(0, 1));
    expect(rows.map((r) => r.state)).toEqual(["sent"]);
    const [message] = sandbox.workspace.messages(channel);
    expect([message?.text, message?.edits]).toEqual(["v4", 1]);
    expect(
      sandbox.workspace.requests("chat.update").filter((r) => r.args.channel === message?.channel),
    ).toHaveLength(1);
  });

  it("a 429 with Retry-After holds the row at least that long, then it is delivered once", async () => {
    const channel = newChannel();
    sandbox.workspace.faults.add({
      method: "chat.postMessage",
      kind: "rate_limited",
      retryAfterSec: 1,
      times: 1,
    });
    const id = await post(channel, "after the limit");
    await start();
    await settled([id]);
    const calls = sandbox.workspace.requests("chat.postMessage").filter((r) => r.args.channel === channel);
    expect(calls.map((c) => c.status)).toEqual([429, 200]);
    expect((calls[1]?.at ?? 0) - (calls[0]?.at ?? 0)).toBeGreaterThanOrEqual(950);
    expect(sandbox.workspace.messages(channel)).toHaveLength(1);
  });

  it("503s are retried with growing waits until Slack answers, and the message arrives once", async () => {
    const channel = newChannel();
    sandbox.workspace.faults.add({ method: "chat.postMessage", kind: "http_error", status: 503, times: 3 });
    const id = await post(channel, "eventually");
    await start();
    const [row] = await settled([id]);
    const calls = sandbox.workspace.requests("chat.postMessage").filter((r) => r.args.channel === channel);
    expect(calls.map((c) => c.status)).toEqual([503, 503, 503, 200]);
    const gaps = calls.slice(1).map((c, i) => c.at - (calls[i]?.at ?? 0));
    expect(gaps[2]).toBeGreaterThan(gaps[0] as number);
    expect(row?.attempts).toBe(4);
    expect(sandbox.workspace.messages(channel).map((m) => m.text)).toEqual(["eventually"]);
  });

  it("ok:false is never retried: the row fails and the channel's later rows still go out", async () => {
    const channel = newChannel();
    sandbox.workspace.faults.add({
      method: "chat.postMessage",
      kind: "ok_false",
      error: "invalid_blocks",
      times: 1,
    });
    const bad = await post(channel, "refused");
    const good = await post(channel, "next one");
    await start();
    const rows = await settled([bad, good]);
    expect(rows.map((r) => [r.state, r.attempts])).toEqual([
      ["failed", 1],
      ["sent", 1],
    ]);
    expect(rows[0]?.lastError).toContain("invalid_blocks");
    expect(sandbox.workspace.messages(channel).map((m) => m.text)).toEqual(["next one"]);
  });

  it("two dispatchers on one database send every row exactly once and keep each channel in order", async () => {
    const channels = [newChannel(), newChannel(), newChannel()];
    const ids: number[] = [];
    for (let i = 0; i < 15; i++) for (const c of channels) ids.push(await post(c, `m${i}`));
    const pacing = { burst: 1000, windowMs: 1000 };
    await Promise.all([start({ pacing, concurrency: 4 }), start({ pacing, concurrency: 4 })]);
    await settled(ids);
    for (const c of channels) {
      expect(sandbox.workspace.messages(c).map((m) => m.text)).toEqual(
        Array.from({ length: 15 }, (_, i) => `m${i}`),
      );
      const sent = sandbox.workspace.requests("chat.postMessage").filter((r) => r.args.channel === c);
      expect(sent).toHaveLength(15);
    }
  });

  it("a channel is never written faster than its pace", async () => {
    const channel = newChannel();
    const ids = [];
    for (let i = 0; i < 6; i++) ids.push(await post(channel, `paced ${i}`));
    await start({ pacing: { burst: 2, windowMs: 1000 } });
    const rows = await settled(ids);
    expect(
      sandbox.workspace.requests("chat.postMessage").filter((r) => r.args.channel === channel),
    ).toHaveLength(6);
    // The claim is the decision to send (request arrival times also carry the machine's scheduling noise).
    const claims = rows.map((r) => r.claimedAt?.getTime() as number).sort((a, b) => a - b);
    for (let i = 2; i < claims.length; i++) {
      expect((claims[i] as number) - (claims[i - 2] as number)).toBeGreaterThanOrEqual(1000);
    }
  });

  it("a row left 'sending' by a sender that died is taken back when its lease ends and delivered once", async () => {
    const channel = newChannel();
    const id = await post(channel, "orphaned");
    // A "dead" dispatcher claims it with a short lease and never sends it.
    const claimed = await repo.claim({
      now: new Date(),
      limit: 100,
      leaseMs: 300,
      pacing: { burst: 1000, windowMs: 1000 },
    });
    expect(claimed.map((r) => r.id)).toContain(id);
    await start({ releaseEveryMs: 50 });
    await new Promise((r) => setTimeout(r, 100));
    expect((await repo.byId(id))?.state).toBe("sending");
    await waitUntil("the orphan to be delivered", async () => (await repo.byId(id))?.state === "sent", 8_000);
    expect(sandbox.workspace.messages(channel).map((m) => m.text)).toEqual(["orphaned"]);
  });

  it("a reply whose parent Slack refused still goes out (at top level); an edit of it fails", async () => {
    const channel = newChannel();
    sandbox.workspace.faults.add({
      method: "chat.postMessage",
      kind: "ok_false",
      error: "msg_too_long",
      times: 1,
    });
    const card = await post(channel, "too long");
    const reply = await post(channel, "a reply", { parentId: card });
    const d = await start();
    await settled([card, reply]);
    await d.stop();
    const edit = await repo.enqueue(
      { method: "chat.update", channel, parentId: card, payload: { text: "x" } },
      new Date(),
    );
    await start();
    const rows = await settled([card, reply, edit]);
    expect(rows.map((r) => r.state)).toEqual(["failed", "sent", "failed"]);
    expect(sandbox.workspace.messages(channel).map((m) => m.text)).toEqual(["a reply"]);
  });
});

describe("edits racing a failed post", () => {
  it("an edit queued while the post was out (and then failed) never rolls the message back", async () => {
    const channel = newChannel();
    const card = await post(channel, "v1");
    // The post is out for delivery when the first edit arrives: the edit becomes its own row.
    const [claimed] = await repo.claim({
      now: new Date(),
      limit: 1,
      leaseMs: 60_000,
      pacing: { burst: 100, windowMs: 1000 },
    });
    expect(claimed?.id).toBe(card);
    const early = await repo.enqueue(
      {
        method: "chat.update",
        channel,
        parentId: card,
        payload: { text: "v2" },
        coalesceKey: `k:${channel}`,
      },
      new Date(),
    );
    // Slack failed it (503): it waits again; the next edit replaces the pending edit's content.
    await repo.reschedule(claimed as OutboxRow, new Date(), "HTTP 503");
    const late = await repo.enqueue(
      {
        method: "chat.update",
        channel,
        parentId: card,
        payload: { text: "v3" },
        coalesceKey: `k:${channel}`,
      },
      new Date(),
    );
    expect(late).toBe(early);
    await start();
    const rows = await settled([card, early]);
    expect(rows.map((r) => r.state)).toEqual(["sent", "sent"]);
    expect(sandbox.workspace.messages(channel).map((m) => m.text)).toEqual(["v3"]);
  });

  it("an edit without a key folded into a post that failed once drops the pending edits older than it", async () => {
    const channel = newChannel();
    const card = await post(channel, "v1");
    const [claimed] = await repo.claim({
      now: new Date(),
      limit: 1,
      leaseMs: 60_000,
      pacing: { burst: 100, windowMs: 1000 },
    });
    const stale = await repo.enqueue(
      { method: "chat.update", channel, parentId: card, payload: { text: "v2" } },
      new Date(),
    );
    await repo.reschedule(claimed as OutboxRow, new Date(), "HTTP 503");
    const folded = await repo.enqueue(
      { method: "chat.update", channel, parentId: card, payload: { text: "v3" } },
      new Date(),
    );
    expect(folded).toBe(card);
    await start();
    const rows = await settled([card, stale]);
    expect(rows.map((r) => r.state)).toEqual(["sent", "superseded"]);
    expect(sandbox.workspace.messages(channel).map((m) => m.text)).toEqual(["v3"]);
  });
});
