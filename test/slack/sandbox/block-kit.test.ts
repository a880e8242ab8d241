import { WebAPIPlatformError } from "@slack/web-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Block } from "../../../src/slack/sandbox/index.js";
import { type Fixture, rejectionOf, startFixture } from "./sandbox-fixture.js";

const text = (length: number, type = "mrkdwn") => ({ type, text: "x".repeat(length) });
const button = (overrides: Record<string, unknown> = {}) => ({
  type: "button",
  text: { type: "plain_text", text: "Ack" },
  action_id: "ack",
  ...overrides,
});
const section = (length: number): Block => ({ type: "section", text: text(length) });

const invalid: [situation: string, blocks: unknown][] = [
  ["51 blocks", Array.from({ length: 51 }, () => ({ type: "divider" }))],
  ["section text of 3001 chars", [section(3001)]],
  ["header text of 151 chars", [{ type: "header", text: text(151, "plain_text") }]],
  ["button text of 76 chars", [{ type: "actions", elements: [button({ text: text(76, "plain_text") })] }]],
  ["button value of 2001 chars", [{ type: "actions", elements: [button({ value: "v".repeat(2001) })] }]],
  ["action_id of 256 chars", [{ type: "actions", elements: [button({ action_id: "a".repeat(256) })] }]],
  ["block_id of 256 chars", [{ type: "divider", block_id: "b".repeat(256) }]],
  [
    "26 elements in an actions block",
    [{ type: "actions", elements: Array.from({ length: 26 }, (_, i) => button({ action_id: `a${i}` })) }],
  ],
  [
    "11 elements in a context block",
    [{ type: "context", elements: Array.from({ length: 11 }, () => text(3)) }],
  ],
  ["an unknown block type", [{ type: "carousel" }]],
  ["a block that is not an object", ["divider"]],
  ["blocks that are not an array", { type: "divider" }],
  [
    "a duplicate block_id",
    [
      { type: "divider", block_id: "same" },
      { type: "divider", block_id: "same" },
    ],
  ],
];

const valid: [situation: string, blocks: Block[]][] = [
  ["exactly 50 blocks", Array.from({ length: 50 }, () => ({ type: "divider" }))],
  ["section text of 3000 chars", [section(3000)]],
  ["header text of 150 chars", [{ type: "header", text: text(150, "plain_text") }]],
  [
    "25 buttons and a 75-char label",
    [
      {
        type: "actions",
        elements: Array.from({ length: 25 }, (_, i) =>
          button({ action_id: `a${i}`, text: text(75, "plain_text") }),
        ),
      },
    ],
  ],
  ["10 context elements", [{ type: "context", elements: Array.from({ length: 10 }, () => text(3)) }]],
];

describe("sandbox Block Kit limits", () => {
  let fx: Fixture;
  beforeAll(async () => {
    fx = await startFixture();
  });
  afterAll(async () => {
    await fx.server.close();
  });

  it.each(invalid)("chat.postMessage with %s fails with invalid_blocks", async (_situation, blocks) => {
    const error = await rejectionOf(
      fx.client.chat.postMessage({ channel: "C0ALERTS", text: "fallback", blocks: blocks as Block[] }),
    );
    expect(error).toBeInstanceOf(WebAPIPlatformError);
    const data = (error as WebAPIPlatformError).data as { error: string; errors?: string[] };
    expect(data.error).toBe("invalid_blocks");
    expect(data.errors).toEqual([expect.stringContaining("[json-pointer:/blocks")]);
  });

  it.each(valid)("chat.postMessage with %s is accepted", async (_situation, blocks) => {
    await expect(
      fx.client.chat.postMessage({ channel: "C0ALERTS", text: "fallback", blocks }),
    ).resolves.toMatchObject({ ok: true });
  });

  it("chat.update and chat.postEphemeral enforce the same limits", async () => {
    const posted = await fx.client.chat.postMessage({ channel: "C0ALERTS", text: "ok" });
    const tooLong = [section(3001)];
    const update = await rejectionOf(
      fx.client.chat.update({ channel: "C0ALERTS", ts: posted.ts ?? "", blocks: tooLong }),
    );
    const ephemeral = await rejectionOf(
      fx.client.chat.postEphemeral({ channel: "C0ALERTS", user: "U0ALICE", blocks: tooLong }),
    );
    expect((update as WebAPIPlatformError).data.error).toBe("invalid_blocks");
    expect((ephemeral as WebAPIPlatformError).data.error).toBe("invalid_blocks");
  });

  it("stored blocks get a block_id and interactive elements an action_id, as Slack does", async () => {
    const posted = await fx.client.chat.postMessage({
      channel: "C0ALERTS",
      text: "fallback",
      blocks: [{ type: "actions", elements: [{ type: "button", text: { type: "plain_text", text: "Go" } }] }],
    });
    const stored = fx.server.workspace.message("C0ALERTS", posted.ts ?? "");
    const block = stored?.blocks?.[0] as unknown as { block_id?: string; elements: { action_id?: string }[] };
    expect(block.block_id).toEqual(expect.any(String));
    expect(block.elements[0]?.action_id).toEqual(expect.any(String));
  });
});
