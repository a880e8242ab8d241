import { z } from "zod";

/**
 * The shapes every feature's Bolt listeners read from Slack's interaction payloads, validated in one
 * place: who clicked which button where, and what a modal submitted with its private metadata.
 * Anything that does not match is `undefined`, and the listener acknowledges and ignores it.
 */

/** Who acted and where, as every `block_actions` payload says it. */
const actorFields = {
  user: z.object({ id: z.string().min(1) }),
  channel: z.object({ id: z.string().min(1) }).optional(),
  container: z.object({ channel_id: z.string().optional() }).optional(),
};

/** The channel of a `block_actions` payload: its `channel`, else its container's. */
function channelOf(data: {
  channel?: { id: string } | undefined;
  container?: { channel_id?: string | undefined } | undefined;
}) {
  return data.channel?.id ?? data.container?.channel_id;
}

const clickSchema = z.object({
  ...actorFields,
  trigger_id: z.string().min(1).optional(),
  actions: z.array(z.object({ action_id: z.string().optional(), value: z.string() }).loose()).min(1),
});

/** A button click: the person, the channel it happened in, and the first action's id and value. */
export interface ButtonClick {
  user: string;
  channel: string;
  /** Present when Slack sent one (needed to open a modal). */
  triggerId: string | undefined;
  actionId: string | undefined;
  value: string;
}

/** The click in a `block_actions` payload, or undefined when it lacks a user, channel or value. */
export function parseButtonClick(body: unknown): ButtonClick | undefined {
  const parsed = clickSchema.safeParse(body);
  if (!parsed.success) return undefined;
  const channel = channelOf(parsed.data);
  const action = parsed.data.actions[0];
  if (!channel || !action) return undefined;
  return {
    user: parsed.data.user.id,
    channel,
    triggerId: parsed.data.trigger_id,
    actionId: action.action_id,
    value: action.value,
  };
}

const selectSchema = z.object({
  ...actorFields,
  actions: z
    .array(z.object({ selected_option: z.object({ value: z.string().max(200) }).loose() }).loose())
    .min(1),
});

/** A choice in a select menu of a message: who chose, where, and the chosen option's value. */
export interface SelectChoice {
  user: string;
  channel: string;
  value: string;
}

/** The choice in a `block_actions` payload from a static select, or undefined. */
export function parseSelectChoice(body: unknown): SelectChoice | undefined {
  const parsed = selectSchema.safeParse(body);
  if (!parsed.success) return undefined;
  const channel = channelOf(parsed.data);
  const action = parsed.data.actions[0];
  if (!channel || !action) return undefined;
  return { user: parsed.data.user.id, channel, value: action.selected_option.value };
}

/** A click on a button whose value is a record's numeric id, with the trigger id a modal needs. */
export interface IdButtonClick {
  user: string;
  channel: string;
  id: number;
  triggerId: string;
}

/** The click in `body` when its value is a numeric id and it brings a trigger id, else undefined. */
export function parseIdButtonClick(body: unknown): IdButtonClick | undefined {
  const click = parseButtonClick(body);
  if (!click?.triggerId || !/^\d{1,9}$/.test(click.value)) return undefined;
  return { user: click.user, channel: click.channel, id: Number(click.value), triggerId: click.triggerId };
}

const submissionSchema = z.object({
  user: z.object({ id: z.string().min(1) }),
  view: z.object({
    private_metadata: z.string(),
    state: z.object({
      values: z.record(z.string(), z.record(z.string(), z.object({ value: z.string().nullish() }).loose())),
    }),
  }),
});

/** A `view_submission`: who submitted it, its private metadata (validated) and its input values. */
export interface ViewSubmission<M> {
  user: string;
  meta: M;
  values: Record<string, Record<string, { value?: string | null | undefined }>>;
}

/** The submission in `body` with metadata matching `metadata`, or undefined. */
export function parseViewSubmission<M>(body: unknown, metadata: z.ZodType<M>): ViewSubmission<M> | undefined {
  const parsed = submissionSchema.safeParse(body);
  if (!parsed.success) return undefined;
  const meta = metadata.safeParse(safeJson(parsed.data.view.private_metadata));
  if (!meta.success) return undefined;
  return { user: parsed.data.user.id, meta: meta.data, values: parsed.data.view.state.values };
}

/** The trimmed text of one input of a submission ("" when it is missing or empty). */
export function inputText(values: ViewSubmission<unknown>["values"], block: string, action: string): string {
  return (values[block]?.[action]?.value ?? "").trim();
}

/** JSON.parse that answers undefined instead of throwing. */
export function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
