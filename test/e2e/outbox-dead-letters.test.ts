/**
 * `/mlops outbox` over signed Slack requests: who may see the dead letters, and the Retry and Drop
 * buttons (each audited). A dead letter is made the way production makes one: Slack keeps
 * answering HTTP 400 until `outbox.max_attempts` is used up.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAuditRepository } from "../../src/audit/index.js";
import { createOutboxRepository, type OutboxRepository } from "../../src/outbox/index.js";
import type { SandboxEphemeral } from "../../src/slack/sandbox/index.js";
import { demoConfig } from "../helpers/bot.js";
import { eventually, type IncidentBot, startIncidentBot } from "./incidents-bot.js";

let bot: IncidentBot;
let repo: OutboxRepository;
const CHANNEL = "fraud-alerts";

beforeAll(async () => {
  const config = demoConfig();
  bot = await startIncidentBot({ config: { ...config, outbox: { ...config.outbox, max_attempts: 2 } } });
  repo = createOutboxRepository(bot.database.db);
});
afterAll(async () => {
  await bot?.close();
});

/** Queues a post that Slack answers 400 twice: it becomes a dead letter. */
async function deadLetter(text: string): Promise<number> {
  const { workspace } = bot.sandbox;
  workspace.faults.add({ method: "chat.postMessage", kind: "http_error", status: 400, times: 2 });
  const id = await repo.enqueue(
    { method: "chat.postMessage", channel: CHANNEL, payload: { text } },
    new Date(),
  );
  bot.feature.dispatcher.wake();
  await eventually(`outbox #${id} to be dead`, async () => (await repo.byId(id))?.state === "dead");
  return id;
}

async function list(user: string): Promise<SandboxEphemeral> {
  const before = bot.sandbox.workspace.ephemerals(user).length;
  const res = await bot.sandbox.driver.command(user, CHANNEL, "outbox");
  expect(res.status).toBe(200);
  const shown = bot.sandbox.workspace.ephemerals(user);
  expect(shown.length).toBe(before + 1);
  return shown.at(-1) as SandboxEphemeral;
}

const textOf = (e: SandboxEphemeral | undefined) => `${e?.text}\n${JSON.stringify(e?.blocks ?? [])}`;

describe("/mlops outbox", () => {
  it("L1 is refused; L2 and the model's owners see the dead letter with its last error", async () => {
    const id = await deadLetter("never accepted");
    expect(textOf(await list("U0OLIVIA"))).toContain("may manage the outbox");
    for (const user of ["U0DANA", "U0MAYA"]) {
      const shown = textOf(await list(user));
      expect(shown).toContain(`*#${id}*`);
      expect(shown).toContain("never accepted");
      expect(shown).toContain("HTTP 400");
    }
  });

  it("Retry queues it again and it is delivered; Drop removes it; both are audited, a refused click changes nothing", async () => {
    const { workspace, driver } = bot.sandbox;
    const retried = await deadLetter("second chance");
    const dropped = await deadLetter("not wanted");
    const ephemeral = await list("U0DANA");

    // An L1 operator's click (a forged or forwarded payload) is refused and leaves the row alone.
    await driver.clickButton("U0OLIVIA", ephemeral, "outbox_drop", { blockId: `outbox_dead:${dropped}` });
    await eventually("the refusal to be audited", async () => {
      const [a] = await createAuditRepository(bot.database.db).recent({ actor: "U0OLIVIA", limit: 1 });
      return a?.action === "outbox.drop" && a.outcome === "refused";
    });
    expect((await repo.byId(dropped))?.state).toBe("dead");

    await driver.clickButton("U0DANA", ephemeral, "outbox_retry", { blockId: `outbox_dead:${retried}` });
    await eventually("the retried post to arrive", () =>
      workspace.messages(CHANNEL).some((m) => m.text === "second chance"),
    );
    await eventually(`#${retried} to be sent`, async () => (await repo.byId(retried))?.state === "sent");

    await driver.clickButton("U0DANA", ephemeral, "outbox_drop", { blockId: `outbox_dead:${dropped}` });
    await eventually(
      `#${dropped} to be dropped`,
      async () => (await repo.byId(dropped))?.state === "dropped",
    );
    expect(workspace.messages(CHANNEL).some((m) => m.text === "not wanted")).toBe(false);

    const audit = await createAuditRepository(bot.database.db).recent({ actor: "U0DANA", limit: 10 });
    expect(
      audit.filter((a) => a.action.startsWith("outbox.")).map((a) => [a.action, a.target, a.outcome]),
    ).toEqual([
      ["outbox.drop", `outbox:${dropped}`, "ok"],
      ["outbox.retry", `outbox:${retried}`, "ok"],
    ]);
    const after = textOf(await list("U0DANA"));
    expect(after).not.toContain(`*#${retried}*`);
    expect(after).not.toContain(`*#${dropped}*`);
  });
});
