import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COMMAND_WORKING_TEXT } from "../../src/slack/commands/types.js";
import type { SandboxSocketMode } from "../../src/slack/sandbox/index.js";
import { startTestBot } from "../helpers/bot.js";

// Slack redelivers an envelope whose ack it did not get on the next connection. The bot must then
// acknowledge it again, with the same answer, without running the command a second time.

type TestBot = Awaited<ReturnType<typeof startTestBot>>;
let bot: TestBot;
let socket: SandboxSocketMode;
/** How many times each probe command's work ran. */
const runs = new Map<string, number>();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  bot = await startTestBot({
    env: { MLOPS_SANDBOX_SOCKET: "1" },
    features: () => [
      {
        name: "probe",
        commands: [
          {
            name: "count",
            usage: "<label> <ms>",
            summary: "Asks the sandbox to disconnect the bot, then answers after <ms>",
            run: async ({ args }) => {
              const label = args[0] ?? "";
              const n = (runs.get(label) ?? 0) + 1;
              runs.set(label, n);
              socket.disconnect("refresh_requested");
              await sleep(Number(args[1] ?? 0));
              return { text: `${label} ran ${n} time(s)` };
            },
          },
          {
            name: "slow",
            usage: "",
            summary: "Takes longer than Slack waits for an ack",
            run: async () => {
              await sleep(2_500);
              return { text: "done after 2.5 s", inChannel: true };
            },
          },
        ],
      },
    ],
  });
  socket = bot.sandbox.socket as SandboxSocketMode;
});
afterAll(async () => {
  await bot?.close();
});

function channel(): string {
  return bot.sandbox.workspace.requireChannel("fraud-alerts").id;
}

describe("a disconnect in the middle of a command over Socket Mode", () => {
  it("when the ack could not be sent before the socket closed, the redelivery is acked with the same answer and the command runs once", async () => {
    const opened = socket.opened;
    // The bot's reconnect takes 1.5 s (a slow apps.connections.open); the command answers 500 ms
    // in, while the bot is between connections, so its ack cannot go out.
    bot.sandbox.workspace.faults.add({
      method: "apps.connections.open",
      kind: "slow",
      delayMs: 1_500,
      times: 1,
    });
    const res = await bot.sandbox.driver.command("U0DANA", channel(), "count lost 500");
    expect(res.body).toMatchObject({ response_type: "ephemeral", text: "lost ran 1 time(s)" });
    expect(runs.get("lost")).toBe(1);
    const sent = socket.deliveries.filter((d) => d.envelopeId === res.envelopeId);
    expect(sent.map((d) => [d.connection, d.attempt])).toEqual([
      [opened, 1],
      [opened + 1, 2],
    ]);
    const acks = socket.acks.filter((a) => a.envelopeId === res.envelopeId);
    expect(acks.map((a) => [a.connection, a.payload?.text])).toEqual([[opened + 1, "lost ran 1 time(s)"]]);
    expect(socket.unacknowledged).toBe(0);
  });

  it("when the redelivery arrives while the first delivery is still being handled, the command runs once and both acks carry its answer", async () => {
    const opened = socket.opened;
    // The bot reconnects at once; the command is still working for a second.
    const res = await bot.sandbox.driver.command("U0DANA", channel(), "count busy 1000");
    expect(res.body).toMatchObject({ text: "busy ran 1 time(s)" });
    expect(runs.get("busy")).toBe(1);
    const sent = socket.deliveries.filter((d) => d.envelopeId === res.envelopeId);
    expect(sent.map((d) => d.connection)).toEqual([opened, opened + 1]);
    // Both deliveries are acknowledged on the new connection: first the original (the client
    // sends on its current socket), then the redelivery; Slack ignores the second.
    await sleep(200);
    const acks = socket.acks.filter((a) => a.envelopeId === res.envelopeId);
    expect(acks.map((a) => [a.connection, a.payload?.text])).toEqual([
      [opened + 1, "busy ran 1 time(s)"],
      [opened + 1, "busy ran 1 time(s)"],
    ]);
  });
});

describe("a command slower than Slack's 3 s over Socket Mode", () => {
  it("is acknowledged by envelope_id with 'working on it' in time and answered through its response_url", async () => {
    const res = await bot.sandbox.driver.command("U0OLIVIA", channel(), "slow");
    const [ack] = socket.acks.filter((a) => a.envelopeId === res.envelopeId);
    expect(ack?.payload).toMatchObject({ text: COMMAND_WORKING_TEXT });
    expect(ack?.ackedAfterMs).toBeLessThan(3_000);
    expect(res).toMatchObject({
      deferred: true,
      body: { response_type: "in_channel", text: "done after 2.5 s" },
    });
    expect(
      bot.sandbox.workspace.messages(channel()).filter((m) => m.text === "done after 2.5 s"),
    ).toHaveLength(1);
  });
});
