import { PNG } from "pngjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOutboxRepository } from "../../src/outbox/index.js";
import { driftOnlyConfig, oneIncidentPerFinding, startTestBot } from "../helpers/bot.js";
import { injectDrift } from "../helpers/drift.js";
import { makeToken } from "../helpers/monitoring.js";
import { eventually } from "./incidents-bot.js";

type TestBot = Awaited<ReturnType<typeof startTestBot>>;
let bot: TestBot;
let token: string;

beforeAll(async () => {
  bot = await startTestBot({ config: oneIncidentPerFinding(driftOnlyConfig()) });
  token = await makeToken(bot.database);
});
afterAll(async () => {
  await bot?.close();
});

describe("charts in the incident thread", () => {
  it("a drift incident's thread gets its distribution and trend charts once, through a 503 storm on the upload", async () => {
    const { workspace, driver } = bot.sandbox;
    const where = workspace.channelByName("fraud-alerts")?.id as string;
    await injectDrift(bot, token, where);
    // Slack's upload endpoint and the completing call fail for a while: the charts wait, then arrive once.
    workspace.faults.add({ method: "upload", kind: "http_error", status: 503, times: 2 });
    workspace.faults.add({
      method: "files.completeUploadExternal",
      kind: "http_error",
      status: 503,
      times: 2,
    });
    expect((await driver.command("U0OLIVIA", where, "check fraud-detector")).status).toBe(200);

    const card = await eventually(
      "the drift card for amount",
      () => workspace.messages(where).find((m) => /^INC-\d+ \[open\] Drift in amount/.test(m.text)),
      20_000,
    ).catch((err: Error) => {
      throw new Error(
        `${err.message}; the channel has: ${workspace
          .messages(where)
          .map((m) => m.text.slice(0, 160))
          .join(" | ")}`,
      );
    });
    const ref = /^(INC-\d+)/.exec(card.text)?.[1] as string;
    const charts = () =>
      workspace
        .thread(where, card.ts)
        .flatMap((m) => m.files)
        .map((id) => workspace.file(id))
        .filter((f) => f?.name.endsWith(".png"));
    const files = await eventually(
      "two charts in the thread",
      () => {
        const found = charts();
        return found.length >= 2 ? found : undefined;
      },
      30_000,
    );
    // Wait out the retries of anything still queued, then count again: nothing came twice.
    await eventually(
      "the outbox to drain",
      async () => {
        const counts = await createOutboxRepository(bot.database.db).countByState();
        return !counts.pending && !counts.sending;
      },
      30_000,
    );
    const final = charts();
    expect(final.map((f) => f?.name)).toEqual([
      `${ref}-1-amount-reference-and-current-distribution.png`,
      `${ref}-2-drift-of-amount-over-recent-runs.png`,
    ]);
    const [overlay, trend] = files;
    // The alt text names the feature and the score, as screen readers and previews read it.
    expect(overlay?.alt_text).toMatch(/^Drift in amount: psi \d+(\.\d+)? ≥ threshold 0\.2\./);
    expect(trend?.alt_text).toContain("Drift score of amount");
    // What was uploaded is a PNG picture of the stated size.
    const png = PNG.sync.read(overlay?.bytes as Buffer);
    expect([png.width, png.height]).toEqual([960, 480]);
    // The storm was real: the upload and the completing call were refused before they went through.
    expect(workspace.requests("upload").filter((r) => r.status === 503).length).toBe(2);
    expect(workspace.requests("files.completeUploadExternal").filter((r) => r.status === 503).length).toBe(2);
    // The incident's timeline records each chart.
    const res = await fetch(`${bot.url}/api/v1/incidents/${ref}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const { timeline } = (await res.json()) as {
      timeline: { kind: string; detail: { what?: string }; slackDelivery?: { state?: string } | null }[];
    };
    const posted = timeline.filter((e) => e.kind === "posted" && e.detail.what === "chart");
    expect(posted).toHaveLength(2);
  }, 60_000);
});
