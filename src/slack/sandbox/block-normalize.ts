import { randomToken } from "./ids.js";
import type { Block } from "./types.js";

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const INTERACTIVE = /button|select|overflow|picker|checkboxes|radio_buttons|input$|rich_text_input/;

function fillActionId(element: unknown): void {
  if (isObject(element) && typeof element.type === "string" && INTERACTIVE.test(element.type)) {
    if (typeof element.action_id !== "string") element.action_id = randomToken(3).slice(0, 5);
  }
}

/** Deep-copies blocks and, like Slack, gives every block a block_id and every interactive element an action_id. */
export function normalizeBlocks(blocks: readonly Block[] | undefined): Block[] | undefined {
  if (!blocks) return undefined;
  const copy = structuredClone(blocks) as Block[];
  for (const block of copy) {
    if (typeof block.block_id !== "string") block.block_id = randomToken(3).slice(0, 5);
    if (Array.isArray(block.elements)) for (const element of block.elements) fillActionId(element);
    fillActionId(block.accessory);
    fillActionId(block.element);
  }
  return copy;
}
