import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ChartSpec } from "../../src/charts/spec.js";
import { chartUpload } from "../../src/charts/upload.js";
import type { Database } from "../../src/db/index.js";
import {
  createOutboxRepository,
  type OutboxDispatcher,
  type OutboxRepository,
} from "../../src/outbox/index.js";
import type { SandboxServer } from "../../src/slack/sandbox/index.js";
import { openTestDatabase } from "../helpers/db.js";
import { sandboxDispatcher, sandboxTransport, startOutboxSandbox, waitUntil } from "../outbox/helpers.js";

let database: Database;
let sandbox: SandboxServer;
let repo: OutboxRepository;
const running: OutboxDispatcher[] = [];
let seq = 0;

const CHART: ChartSpec = {
  kind: "line",
  title: "Drift of amount over recent runs",
  alt: "Drift score of amount over 3 runs, from 0.02 to 0.9, threshold 0.1.",
  x: { label: "monitor run", unit: "UTC" },
  y: { label: "psi of amount" },
  threshold: { value: 0.1, label: "threshold 0.1" },
  series: [{ name: "amount", points: [0.02, 0.03, 0.9].map((v, i) => ({ t: Date.UTC(2026, 11, 1, i), v })) }],
};

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

async function start(options: Parameters<typeof sandboxDispatcher>[2] = {}) {
  const d = sandboxDispatcher(database, sandbox, options);
  running.push(d);
  await d.start();
  return d;
}

const settledRow = (id: number) =>
  waitUntil(`outbox row ${id} to settle`, async () => {
    const row = await repo.byId(id);
    return row?.state === "sent" || row?.state === "failed" || row?.state === "dead";
  });

function threadFiles(channel: string, ts: string) {
  return sandbox.workspace
    .thread(channel, ts)
    .flatMap((m) => m.files)
    .map((id) => sandbox.workspace.file(id));
}

describe("charts through the outbox", () => {
  it("an upload that reached Slack before its sender died is found in the thread and not uploaded again", async () => {
    const channel = sandbox.workspace.addChannel({ name: `charts-${++seq}` }).id;
    const card = await repo.enqueue(
      { method: "chat.postMessage", channel, payload: { text: "INC-1 card" } },
      new Date(),
    );
    const first = await start();
    await settledRow(card);
    await first.stop();
    const parent = await repo.byId(card);
    const chartRow = await repo.enqueue(
      { method: "files.uploadV2", channel, parentId: card, payload: chartUpload(CHART, "INC-1-1") },
      new Date(),
    );
    // A sender claims the row, uploads the chart into the thread, and dies before recording it.
    const [claimed] = await repo.claim({
      now: new Date(),
      limit: 10,
      leaseMs: 300,
      pacing: { burst: 100, windowMs: 1000 },
    });
    expect(claimed?.id).toBe(chartRow);
    const outcome = await sandboxTransport(sandbox).deliver({
      outboxId: chartRow,
      method: "files.uploadV2",
      channel,
      payload: claimed?.payload ?? {},
      threadTs: parent?.resultTs ?? undefined,
    });
    expect(outcome.kind).toBe("delivered");
    expect(threadFiles(channel, parent?.resultTs as string)).toHaveLength(1);
    // The next sender takes the row back when the lease ends, looks in the thread first, and
    // records the upload it finds instead of uploading a second copy.
    await start({ releaseEveryMs: 50 });
    await waitUntil(
      "the row to be recorded as sent",
      async () => (await repo.byId(chartRow))?.state === "sent",
      8_000,
    );
    const files = threadFiles(channel, parent?.resultTs as string);
    expect(files.map((f) => f?.name)).toEqual(["INC-1-1-drift-of-amount-over-recent-runs.png"]);
    expect(files[0]?.alt_text).toBe(CHART.alt);
    expect(sandbox.workspace.requests("files.completeUploadExternal")).toHaveLength(1);
  });

  it("a chart Slack keeps refusing holds back other charts, never the channel's cards", async () => {
    const channel = sandbox.workspace.addChannel({ name: `charts-${++seq}` }).id;
    sandbox.workspace.faults.add({ method: "upload", kind: "http_error", status: 503 });
    await start();
    const card = await repo.enqueue(
      { method: "chat.postMessage", channel, payload: { text: "INC-2 card" } },
      new Date(),
    );
    await repo.enqueue(
      { method: "files.uploadV2", channel, parentId: card, payload: chartUpload(CHART, "INC-2-1") },
      new Date(),
    );
    const next = await repo.enqueue(
      { method: "chat.postMessage", channel, payload: { text: "INC-3 card" } },
      new Date(),
    );
    await settledRow(next);
    expect(sandbox.workspace.messages(channel).map((m) => m.text)).toEqual(["INC-2 card", "INC-3 card"]);
    // Once Slack takes uploads again, the chart arrives in its card's thread.
    sandbox.workspace.faults.clear();
    const cardTs = (await repo.byId(card))?.resultTs as string;
    await waitUntil("the chart in the thread", () => threadFiles(channel, cardTs).length === 1, 40_000);
  }, 60_000);
});
