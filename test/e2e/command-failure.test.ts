import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditLog } from "../../src/db/schema/index.js";
import { startTestBot } from "../helpers/bot.js";

type TestBot = Awaited<ReturnType<typeof startTestBot>>;
let bot: TestBot;

beforeAll(async () => {
  bot = await startTestBot({
    features: () => [
      {
        name: "broken",
        commands: [
          {
            name: "boom",
            usage: "",
            summary: "A command whose work fails unexpectedly",
            run: async () => {
              throw new Error("the database went away mid-command");
            },
          },
        ],
      },
    ],
  });
});
afterAll(async () => {
  await bot?.close();
});

describe("a /mlops command that fails", () => {
  it("still answers the person (never Slack's bare dispatch_failed) and is logged as an error", async () => {
    const channel = bot.sandbox.workspace.channelByName("fraud-alerts")?.id ?? "";
    const res = await bot.sandbox.driver.command("U0OLIVIA", channel, "boom now");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      response_type: "ephemeral",
      text: "Something went wrong on our side running that command; it has been logged.",
    });
    // The command log is written in batches after the answer.
    const started = Date.now();
    let rows: { outcome: string; detail: unknown }[] = [];
    while (!rows.length && Date.now() - started < 5_000) {
      rows = await bot.database.db
        .select({ outcome: auditLog.outcome, detail: auditLog.detail })
        .from(auditLog)
        .where(eq(auditLog.action, "command.failed"));
      if (!rows.length) await new Promise((r) => setTimeout(r, 50));
    }
    expect(rows).toEqual([{ outcome: "error", detail: { text: "boom now" } }]);
  });
});
