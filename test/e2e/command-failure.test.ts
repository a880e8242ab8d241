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
          {
            name: "slow",
            usage: "",
            summary: "A command whose work takes longer than Slack waits for an ack",
            run: async () => {
              await new Promise((r) => setTimeout(r, 3_500));
              return { text: "done after 3.5 s", inChannel: true };
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

describe("a /mlops command that needs longer than Slack's 3 s", () => {
  it("is acknowledged at once with 'working on it' and answered through its response_url", async () => {
    const channel = bot.sandbox.workspace.channelByName("fraud-alerts")?.id ?? "";
    const started = Date.now();
    const acked = await bot.sandbox.driver.command("U0OLIVIA", channel, "slow", { waitForLateAnswer: false });
    // Without the early ack the receiver would have answered 404 after 3 s (Slack: operation_timeout).
    expect(acked.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(acked.body).toMatchObject({
      response_type: "ephemeral",
      text: ":hourglass_flowing_sand: Working on it; the answer follows here.",
    });
    // The answer arrives through the response_url, in the channel as the command asked.
    const late = await bot.sandbox.driver.command("U0OLIVIA", channel, "slow");
    expect(late).toMatchObject({ status: 200, deferred: true });
    expect(late.body).toMatchObject({ response_type: "in_channel", text: "done after 3.5 s" });
    const posted = await (async () => {
      const until = Date.now() + 10_000;
      while (Date.now() < until) {
        const found = bot.sandbox.workspace.messages(channel).filter((m) => m.text === "done after 3.5 s");
        if (found.length === 2) return found;
        await new Promise((r) => setTimeout(r, 50));
      }
      return bot.sandbox.workspace.messages(channel).filter((m) => m.text === "done after 3.5 s");
    })();
    expect(posted).toHaveLength(2);
  });
});
