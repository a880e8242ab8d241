import { html, type SafeHtml, safeUrl } from "../../../web/html.js";
import type { Block } from "../types.js";
import type { SandboxWorkspace } from "../workspace.js";
import { mrkdwnToHtml, plainToHtml } from "./mrkdwn-html.js";

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function str(value: unknown): string {
  return typeof value === "string" ? value : "";
}

/** A text object (`plain_text` or `mrkdwn`) as HTML. */
export function textHtml(value: unknown, workspace: SandboxWorkspace): SafeHtml {
  if (!isObject(value) || typeof value.text !== "string") return html``;
  return value.type === "mrkdwn"
    ? mrkdwnToHtml(value.text, workspace)
    : plainToHtml(value.text, value.emoji !== false);
}

function imageHtml(url: unknown, alt: unknown, cls: string): SafeHtml {
  const src = safeUrl(str(url));
  return src
    ? html`<img class="${cls}" src="${src}" alt="${str(alt)}" loading="lazy" referrerpolicy="no-referrer">`
    : html`<span class="${cls} broken">[image: ${str(alt)}]</span>`;
}

function options(element: Json): Json[] {
  const flat = Array.isArray(element.options) ? element.options.filter(isObject) : [];
  const grouped = Array.isArray(element.option_groups)
    ? element.option_groups
        .filter(isObject)
        .flatMap((g) => (Array.isArray(g.options) ? g.options.filter(isObject) : []))
    : [];
  return [...flat, ...grouped];
}

/** One interactive or context element. Buttons carry their action and block ids for the page's click handler. */
export function elementHtml(element: unknown, workspace: SandboxWorkspace, blockId: string): SafeHtml {
  if (!isObject(element)) return html``;
  switch (element.type) {
    case "button": {
      const style = element.style === "primary" || element.style === "danger" ? element.style : "default";
      const url = safeUrl(str(element.url));
      return html`<button type="button" class="bk-button ${style}" data-action-id="${str(element.action_id)}" data-block-id="${blockId}"${url ? html` data-url="${url}"` : ""}>${textHtml(element.text, workspace)}</button>`;
    }
    case "image":
      return imageHtml(element.image_url, element.alt_text, "bk-inline-image");
    case "mrkdwn":
    case "plain_text":
      return html`<span class="bk-text">${textHtml(element, workspace)}</span>`;
    case "static_select": {
      // Choosing posts the option like a click (the page's change handler).
      const initial = isObject(element.initial_option) ? str(element.initial_option.value) : "";
      return html`<select class="bk-select" data-action-id="${str(element.action_id)}" data-block-id="${blockId}">
        ${initial ? html`` : html`<option value="">${isObject(element.placeholder) ? textHtml(element.placeholder, workspace) : "Select"}</option>`}
        ${options(element).map((o) => html`<option value="${str(o.value)}"${str(o.value) === initial ? html` selected` : ""}>${textHtml(o.text, workspace)}</option>`)}</select>`;
    }
    case "multi_static_select": {
      const opts = options(element);
      return html`<select class="bk-select" disabled title="Selects in messages are not supported by the sandbox">
        <option>${isObject(element.placeholder) ? textHtml(element.placeholder, workspace) : "Select"}</option>
        ${opts.map((o) => html`<option>${textHtml(o.text, workspace)}</option>`)}</select>`;
    }
    case "overflow":
      return html`<span class="bk-overflow" title="Overflow menus are not supported by the sandbox">⋯</span>`;
    default: {
      const label = isObject(element.placeholder)
        ? textHtml(element.placeholder, workspace)
        : str(element.type);
      return html`<span class="bk-unsupported">[${label}]</span>`;
    }
  }
}

/** An input block of a modal: a labelled form control named by its action_id. */
function inputHtml(block: Block, workspace: SandboxWorkspace): SafeHtml {
  const element = isObject(block.element) ? block.element : {};
  const actionId = str(element.action_id);
  const blockId = str(block.block_id);
  const label = textHtml(block.label, workspace);
  const hint = isObject(block.hint)
    ? html`<div class="bk-hint">${textHtml(block.hint, workspace)}</div>`
    : "";
  const optional = block.optional === true;
  const placeholder = isObject(element.placeholder) ? str(element.placeholder.text) : "";
  let control: SafeHtml;
  switch (element.type) {
    case "plain_text_input": {
      const common = {
        max: typeof element.max_length === "number" ? element.max_length : undefined,
        min: typeof element.min_length === "number" ? element.min_length : undefined,
      };
      control =
        element.multiline === true
          ? html`<textarea name="${actionId}" rows="4" placeholder="${placeholder}"${common.max ? html` maxlength="${common.max}"` : ""}${optional ? "" : html` required`}>${str(element.initial_value)}</textarea>`
          : html`<input type="text" name="${actionId}" value="${str(element.initial_value)}" placeholder="${placeholder}"${common.max ? html` maxlength="${common.max}"` : ""}${optional ? "" : html` required`}>`;
      break;
    }
    case "static_select": {
      const initial = isObject(element.initial_option) ? str(element.initial_option.value) : "";
      control = html`<select name="${actionId}"${optional ? "" : html` required`}>
        <option value="">${placeholder || "Choose…"}</option>
        ${options(element).map(
          (o) =>
            html`<option value="${str(o.value)}"${str(o.value) === initial ? html` selected` : ""}>${textHtml(o.text, workspace)}</option>`,
        )}
      </select>`;
      break;
    }
    case "radio_buttons": {
      const initial = isObject(element.initial_option) ? str(element.initial_option.value) : "";
      control = html`<div class="bk-radios">${options(element).map(
        (o) =>
          html`<label><input type="radio" name="${actionId}" value="${str(o.value)}"${str(o.value) === initial ? html` checked` : ""}> ${textHtml(o.text, workspace)}</label>`,
      )}</div>`;
      break;
    }
    default:
      control = html`<span class="bk-unsupported">[${str(element.type)} is not supported by the sandbox page]</span>`;
  }
  return html`<div class="bk-input" data-block-id="${blockId}">
    <label class="bk-label">${label}${optional ? html` <span class="muted">(optional)</span>` : ""}</label>
    ${control}${hint}<div class="bk-error" data-error-for="${blockId}"></div></div>`;
}

function richTextHtml(value: unknown, workspace: SandboxWorkspace): SafeHtml {
  if (Array.isArray(value)) return html`${value.map((item) => richTextHtml(item, workspace))}`;
  if (!isObject(value)) return html``;
  const style = isObject(value.style) ? value.style : {};
  const wrap = (inner: SafeHtml) => {
    let out = inner;
    if (style.code) out = html`<code>${out}</code>`;
    if (style.bold) out = html`<strong>${out}</strong>`;
    if (style.italic) out = html`<em>${out}</em>`;
    if (style.strike) out = html`<s>${out}</s>`;
    return out;
  };
  switch (value.type) {
    case "text":
      return wrap(plainToHtml(str(value.text), false));
    case "link": {
      const url = safeUrl(str(value.url));
      const text = str(value.text) || str(value.url);
      return url
        ? html`<a href="${url}" target="_blank" rel="noopener noreferrer">${text}</a>`
        : html`${text}`;
    }
    case "user":
      return html`<span class="mention">@${workspace.user(str(value.user_id))?.name ?? str(value.user_id)}</span>`;
    case "usergroup":
      return html`<span class="mention">@${workspace.userGroup(str(value.usergroup_id))?.handle ?? str(value.usergroup_id)}</span>`;
    case "channel":
      return html`<span class="mention">${workspace.channelLabel(str(value.channel_id))}</span>`;
    case "emoji":
      return mrkdwnToHtml(`:${str(value.name)}:`, workspace);
    case "rich_text_list":
      return html`<ul>${(Array.isArray(value.elements) ? value.elements : []).map((item) => html`<li>${richTextHtml(item, workspace)}</li>`)}</ul>`;
    case "rich_text_preformatted":
      return html`<pre>${richTextHtml(value.elements, workspace)}</pre>`;
    case "rich_text_quote":
      return html`<blockquote>${richTextHtml(value.elements, workspace)}</blockquote>`;
    default:
      return html`<div>${richTextHtml(value.elements, workspace)}</div>`;
  }
}

/** Renders Block Kit blocks as HTML, the way Slack lays them out (simplified). */
export function blocksHtml(blocks: readonly Block[], workspace: SandboxWorkspace): SafeHtml {
  return html`${blocks.map((block) => blockHtml(block, workspace))}`;
}

function blockHtml(block: Block, workspace: SandboxWorkspace): SafeHtml {
  const blockId = str(block.block_id);
  switch (block.type) {
    case "header":
      return html`<div class="bk-header">${textHtml(block.text, workspace)}</div>`;
    case "section": {
      const text = isObject(block.text)
        ? html`<div class="bk-section-text">${textHtml(block.text, workspace)}</div>`
        : "";
      const fields = Array.isArray(block.fields)
        ? html`<div class="bk-fields">${block.fields.map((f) => html`<div class="bk-field">${textHtml(f, workspace)}</div>`)}</div>`
        : "";
      const accessory =
        block.accessory === undefined
          ? ""
          : html`<div class="bk-accessory">${
              isObject(block.accessory) && block.accessory.type === "image"
                ? imageHtml(block.accessory.image_url, block.accessory.alt_text, "bk-accessory-image")
                : elementHtml(block.accessory, workspace, blockId)
            }</div>`;
      return html`<div class="bk-section"><div class="bk-section-body">${text}${fields}</div>${accessory}</div>`;
    }
    case "context":
      return html`<div class="bk-context">${(Array.isArray(block.elements) ? block.elements : []).map((e) => elementHtml(e, workspace, blockId))}</div>`;
    case "actions":
      return html`<div class="bk-actions">${(Array.isArray(block.elements) ? block.elements : []).map((e) => elementHtml(e, workspace, blockId))}</div>`;
    case "divider":
      return html`<hr class="bk-divider">`;
    case "image":
      return html`<figure class="bk-image">${isObject(block.title) ? html`<figcaption>${textHtml(block.title, workspace)}</figcaption>` : ""}${imageHtml(block.image_url, block.alt_text, "bk-image-img")}</figure>`;
    case "input":
      return inputHtml(block, workspace);
    case "rich_text":
      return html`<div class="bk-rich">${richTextHtml(block.elements, workspace)}</div>`;
    case "markdown":
      return html`<div class="bk-markdown">${plainToHtml(str(block.text))}</div>`;
    default:
      return html`<div class="bk-unsupported">[${block.type} block]</div>`;
  }
}
