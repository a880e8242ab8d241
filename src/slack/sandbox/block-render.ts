import { renderMrkdwn } from "./mrkdwn.js";
import type { Block } from "./types.js";
import type { SandboxWorkspace } from "./workspace.js";

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function textOf(value: unknown, workspace: SandboxWorkspace): string {
  if (!isObject(value) || typeof value.text !== "string") return "";
  return value.type === "mrkdwn" ? renderMrkdwn(value.text, workspace) : value.text;
}

function richText(value: unknown, workspace: SandboxWorkspace): string {
  if (Array.isArray(value)) return value.map((item) => richText(item, workspace)).join("");
  if (!isObject(value)) return "";
  switch (value.type) {
    case "text":
      return typeof value.text === "string" ? value.text : "";
    case "link":
      return typeof value.text === "string" ? `${value.text} (${String(value.url)})` : String(value.url);
    case "user":
      return `@${workspace.user(String(value.user_id))?.name ?? String(value.user_id)}`;
    case "usergroup":
      return `@${workspace.userGroup(String(value.usergroup_id))?.handle ?? String(value.usergroup_id)}`;
    case "channel":
      return workspace.channelLabel(String(value.channel_id));
    case "emoji":
      return `:${String(value.name)}:`;
    case "rich_text_list":
      return Array.isArray(value.elements)
        ? value.elements.map((item) => `• ${richText(item, workspace)}\n`).join("")
        : "";
    default:
      return richText(value.elements, workspace);
  }
}

/** Renders one interactive element: `[Label]`, `[!Danger]`, `[*Primary]`, `[Pick one ▾]`. */
export function renderElement(element: unknown, workspace: SandboxWorkspace): string {
  if (!isObject(element)) return "";
  switch (element.type) {
    case "button": {
      const mark = element.style === "danger" ? "!" : element.style === "primary" ? "*" : "";
      return `[${mark}${textOf(element.text, workspace)}]`;
    }
    case "image":
      return `[image: ${String(element.alt_text ?? "")}]`;
    case "overflow":
      return "[…]";
    case "mrkdwn":
    case "plain_text":
      return textOf(element, workspace);
    default: {
      const placeholder = textOf(element.placeholder, workspace) || String(element.type);
      return String(element.type).endsWith("input") ? `[${placeholder}: ____]` : `[${placeholder} ▾]`;
    }
  }
}

/** Renders blocks as plain lines for a terminal: header in caps, section text and fields, context, buttons. */
export function renderBlocks(blocks: readonly Block[], workspace: SandboxWorkspace): string[] {
  const lines: string[] = [];
  for (const block of blocks) {
    switch (block.type) {
      case "header":
        lines.push(`*${textOf(block.text, workspace).toUpperCase()}*`);
        break;
      case "section": {
        const text = textOf(block.text, workspace);
        const accessory = block.accessory === undefined ? "" : renderElement(block.accessory, workspace);
        if (text || accessory) lines.push(...[text, accessory].filter(Boolean).join("  ").split("\n"));
        if (Array.isArray(block.fields)) {
          for (const field of block.fields)
            lines.push(`• ${textOf(field, workspace).replace(/\n/g, "\n  ")}`);
        }
        break;
      }
      case "context":
        if (Array.isArray(block.elements))
          lines.push(block.elements.map((element) => renderElement(element, workspace)).join(" · "));
        break;
      case "actions":
        if (Array.isArray(block.elements))
          lines.push(block.elements.map((element) => renderElement(element, workspace)).join(" "));
        break;
      case "divider":
        lines.push("────────────────");
        break;
      case "image":
        lines.push(`[image: ${String(block.alt_text ?? "")}]`);
        break;
      case "input":
        lines.push(`${textOf(block.label, workspace)}: ${renderElement(block.element, workspace)}`);
        break;
      case "rich_text":
        lines.push(...richText(block.elements, workspace).replace(/\n$/, "").split("\n"));
        break;
      case "markdown":
        lines.push(...String(block.text ?? "").split("\n"));
        break;
      default:
        lines.push(`[${block.type}]`);
    }
  }
  return lines;
}
