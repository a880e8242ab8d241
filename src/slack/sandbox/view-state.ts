import type { Block } from "./types.js";

/** What a user "typed" into one input: text, a selected option value, several values, or nothing. */
export type ViewInputValue = string | string[] | null;

/** `view.state.values`: `{ [block_id]: { [action_id]: { type, value | selected_… } } }`. */
export type ViewStateValues = Record<string, Record<string, Record<string, unknown>>>;

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function options(element: Json): Json[] {
  const flat = Array.isArray(element.options) ? element.options.filter(isObject) : [];
  const grouped = Array.isArray(element.option_groups)
    ? element.option_groups
        .filter(isObject)
        .flatMap((group) => (Array.isArray(group.options) ? group.options.filter(isObject) : []))
    : [];
  return [...flat, ...grouped];
}

function option(element: Json, value: string): Json {
  const known = options(element);
  if (known.length === 0) return { text: { type: "plain_text", text: value }, value };
  const found = known.find((candidate) => candidate.value === value);
  if (!found) throw new Error(`sandbox: option "${value}" is not offered by ${String(element.action_id)}`);
  return found;
}

function asList(value: ViewInputValue): string[] {
  if (value === null) return [];
  return Array.isArray(value) ? value : [value];
}

function asSingle(value: ViewInputValue): string | null {
  return Array.isArray(value) ? (value[0] ?? null) : value;
}

const SELECTED_KEY: Record<string, [key: string, initial: string]> = {
  users_select: ["selected_user", "initial_user"],
  multi_users_select: ["selected_users", "initial_users"],
  conversations_select: ["selected_conversation", "initial_conversation"],
  multi_conversations_select: ["selected_conversations", "initial_conversations"],
  channels_select: ["selected_channel", "initial_channel"],
  multi_channels_select: ["selected_channels", "initial_channels"],
  datepicker: ["selected_date", "initial_date"],
  timepicker: ["selected_time", "initial_time"],
  datetimepicker: ["selected_date_time", "initial_date_time"],
};

function elementState(element: Json, given: ViewInputValue | undefined): Json {
  const type = String(element.type);
  const provided = given !== undefined;
  switch (type) {
    case "static_select":
    case "external_select":
    case "radio_buttons": {
      const single = provided ? asSingle(given) : null;
      const selected =
        single !== null ? option(element, single) : provided ? null : (element.initial_option ?? null);
      return { type, selected_option: selected };
    }
    case "multi_static_select":
    case "multi_external_select":
    case "checkboxes": {
      const selected = provided
        ? asList(given).map((value) => option(element, value))
        : (element.initial_options ?? []);
      return { type, selected_options: selected };
    }
    default: {
      const mapping = SELECTED_KEY[type];
      if (mapping) {
        const [key, initial] = mapping;
        const plural = type.startsWith("multi_");
        const value = provided
          ? plural
            ? asList(given)
            : asSingle(given)
          : (element[initial] ?? (plural ? [] : null));
        // Slack sends a datetimepicker's choice as Unix seconds, a number.
        if (type === "datetimepicker" && typeof value === "string") return { type, [key]: Number(value) };
        return { type, [key]: value };
      }
      const value = provided ? asSingle(given) : (element.initial_value ?? null);
      return { type, value };
    }
  }
}

/**
 * Builds `view.state.values` from a view's input blocks. `values` is keyed by action_id (or block_id);
 * inputs left out keep their initial value. Throws on a key that matches no input, or an unknown option.
 */
export function buildViewState(
  blocks: readonly Block[],
  values: Record<string, ViewInputValue>,
): ViewStateValues {
  const state: ViewStateValues = {};
  const unused = new Set(Object.keys(values));
  for (const block of blocks) {
    if (block.type !== "input" || !isObject(block.element) || typeof block.block_id !== "string") continue;
    const element = block.element;
    const actionId = String(element.action_id);
    const key = actionId in values ? actionId : block.block_id in values ? block.block_id : undefined;
    if (key !== undefined) unused.delete(key);
    state[block.block_id] = {
      [actionId]: elementState(element, key === undefined ? undefined : values[key]),
    };
  }
  if (unused.size > 0)
    throw new Error(`sandbox: no input with action_id or block_id ${[...unused].join(", ")}`);
  return state;
}
