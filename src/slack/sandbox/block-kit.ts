/** Block Kit limits the sandbox enforces, from Slack's reference. */
export const BLOCK_LIMITS = {
  messageBlocks: 50,
  viewBlocks: 100,
  sectionText: 3000,
  sectionFields: 10,
  sectionFieldText: 2000,
  headerText: 150,
  buttonText: 75,
  buttonValue: 2000,
  buttonUrl: 3000,
  id: 255,
  actionsElements: 25,
  contextElements: 10,
  messageText: 40_000,
} as const;

const BLOCK_TYPES = new Set([
  "actions",
  "context",
  "divider",
  "file",
  "header",
  "image",
  "input",
  "markdown",
  "rich_text",
  "section",
  "table",
  "video",
]);

const ELEMENT_TYPES = new Set([
  "button",
  "channels_select",
  "checkboxes",
  "conversations_select",
  "datepicker",
  "datetimepicker",
  "email_text_input",
  "external_select",
  "file_input",
  "image",
  "multi_channels_select",
  "multi_conversations_select",
  "multi_external_select",
  "multi_static_select",
  "multi_users_select",
  "number_input",
  "overflow",
  "plain_text_input",
  "radio_buttons",
  "rich_text_input",
  "static_select",
  "timepicker",
  "url_text_input",
  "users_select",
  "workflow_button",
]);

const CONTEXT_ELEMENT_TYPES = new Set(["mrkdwn", "plain_text", "image"]);

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function at(message: string, pointer: string): string {
  return `${message} [json-pointer:${pointer}]`;
}

function checkText(value: unknown, pointer: string, max: number, plainOnly = false): string | null {
  if (!isObject(value) || typeof value.text !== "string") return at("must provide a text object", pointer);
  if (value.type !== "plain_text" && (plainOnly || value.type !== "mrkdwn")) {
    return at(`must be ${plainOnly ? "plain_text" : "plain_text or mrkdwn"}`, `${pointer}/type`);
  }
  if (value.text.length === 0) return at("must be more than 0 characters", `${pointer}/text`);
  if (value.text.length > max) return at(`must be less than ${max + 1} characters`, `${pointer}/text`);
  return null;
}

function checkId(value: unknown, pointer: string): string | null {
  if (value === undefined) return null;
  if (typeof value !== "string" || value.length === 0) return at("must be a non-empty string", pointer);
  if (value.length > BLOCK_LIMITS.id)
    return at(`must be less than ${BLOCK_LIMITS.id + 1} characters`, pointer);
  return null;
}

function checkElement(element: unknown, pointer: string): string | null {
  if (!isObject(element) || typeof element.type !== "string") return at("must be an element object", pointer);
  if (!ELEMENT_TYPES.has(element.type))
    return at(`unknown element type "${element.type}"`, `${pointer}/type`);
  const idError = checkId(element.action_id, `${pointer}/action_id`);
  if (idError) return idError;
  if (element.type !== "button") return null;
  const textError = checkText(element.text, `${pointer}/text`, BLOCK_LIMITS.buttonText, true);
  if (textError) return textError;
  if (element.value !== undefined) {
    if (typeof element.value !== "string") return at("must be a string", `${pointer}/value`);
    if (element.value.length > BLOCK_LIMITS.buttonValue) {
      return at(`must be less than ${BLOCK_LIMITS.buttonValue + 1} characters`, `${pointer}/value`);
    }
  }
  if (typeof element.url === "string" && element.url.length > BLOCK_LIMITS.buttonUrl) {
    return at(`must be less than ${BLOCK_LIMITS.buttonUrl + 1} characters`, `${pointer}/url`);
  }
  if (element.style !== undefined && element.style !== "primary" && element.style !== "danger") {
    return at('must be "primary" or "danger"', `${pointer}/style`);
  }
  return null;
}

function checkElementList(
  elements: unknown,
  pointer: string,
  max: number,
  check: (el: unknown, p: string) => string | null,
): string | null {
  if (!Array.isArray(elements) || elements.length === 0) return at("must provide a non-empty array", pointer);
  if (elements.length > max) return at(`no more than ${max} items allowed`, pointer);
  for (const [index, element] of elements.entries()) {
    const error = check(element, `${pointer}/${index}`);
    if (error) return error;
  }
  return null;
}

function checkContextElement(element: unknown, pointer: string): string | null {
  if (!isObject(element) || typeof element.type !== "string" || !CONTEXT_ELEMENT_TYPES.has(element.type)) {
    return at("must be a text or image element", pointer);
  }
  return element.type === "image" ? null : checkText(element, pointer, BLOCK_LIMITS.sectionText);
}

function checkSection(block: Json, pointer: string): string | null {
  if (block.text === undefined && block.fields === undefined)
    return at("must provide text or fields", pointer);
  if (block.text !== undefined) {
    const error = checkText(block.text, `${pointer}/text`, BLOCK_LIMITS.sectionText);
    if (error) return error;
  }
  if (block.fields !== undefined) {
    const error = checkElementList(
      block.fields,
      `${pointer}/fields`,
      BLOCK_LIMITS.sectionFields,
      (field, p) => checkText(field, p, BLOCK_LIMITS.sectionFieldText),
    );
    if (error) return error;
  }
  return block.accessory === undefined ? null : checkElement(block.accessory, `${pointer}/accessory`);
}

function checkBlock(block: Json & { type: string }, pointer: string): string | null {
  switch (block.type) {
    case "section":
      return checkSection(block, pointer);
    case "header":
      return checkText(block.text, `${pointer}/text`, BLOCK_LIMITS.headerText, true);
    case "actions":
      return checkElementList(
        block.elements,
        `${pointer}/elements`,
        BLOCK_LIMITS.actionsElements,
        checkElement,
      );
    case "context":
      return checkElementList(
        block.elements,
        `${pointer}/elements`,
        BLOCK_LIMITS.contextElements,
        checkContextElement,
      );
    case "input":
      return (
        checkText(block.label, `${pointer}/label`, 2000, true) ??
        checkElement(block.element, `${pointer}/element`)
      );
    case "image":
      if (typeof block.image_url !== "string" && !isObject(block.slack_file))
        return at("must provide image_url", pointer);
      return typeof block.alt_text === "string" ? null : at("must provide alt_text", `${pointer}/alt_text`);
    default:
      return null;
  }
}

/** Checks blocks against Slack's Block Kit limits; returns the first problem (Slack-style, with a json-pointer) or null. */
export function validateBlocks(
  blocks: unknown,
  maxBlocks: number = BLOCK_LIMITS.messageBlocks,
  root = "/blocks",
): string | null {
  if (!Array.isArray(blocks)) return at("must be an array", root);
  if (blocks.length > maxBlocks) return at(`no more than ${maxBlocks} items allowed`, root);
  const seen = new Set<string>();
  for (const [index, block] of blocks.entries()) {
    const pointer = `${root}/${index}`;
    if (!isObject(block) || typeof block.type !== "string")
      return at("must be a block object with a type", pointer);
    if (!BLOCK_TYPES.has(block.type)) return at(`unknown block type "${block.type}"`, `${pointer}/type`);
    const idError = checkId(block.block_id, `${pointer}/block_id`);
    if (idError) return idError;
    if (typeof block.block_id === "string") {
      if (seen.has(block.block_id))
        return at(`duplicate block_id "${block.block_id}"`, `${pointer}/block_id`);
      seen.add(block.block_id);
    }
    const error = checkBlock(block as Json & { type: string }, pointer);
    if (error) return error;
  }
  return null;
}

/** Checks a modal or home view: type, title (≤ 24 chars for modals), and up to 100 valid blocks. */
export function validateView(view: unknown): string | null {
  if (!isObject(view)) return at("must be a view object", "/view");
  if (view.type !== "modal" && view.type !== "home") return at('must be "modal" or "home"', "/view/type");
  if (view.type === "modal") {
    const titleError = checkText(view.title, "/view/title", 24, true);
    if (titleError) return titleError;
  }
  return validateBlocks(view.blocks, BLOCK_LIMITS.viewBlocks, "/view/blocks");
}
