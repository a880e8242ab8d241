/**
 * The override modal: *Add override* on `/mlops oncall` opens it (for people who may set
 * overrides), and its submission sets the same audited override `/mlops oncall override` does.
 */
import type { App, RespondFn } from "@slack/bolt";
import type { KnownBlock, View } from "@slack/types";
import { z } from "zod";
import type { AuditLog } from "../../audit/index.js";
import type { Db } from "../../db/index.js";
import { OnCallError, type OverrideService } from "../../oncall/index.js";
import { createOutboxRepository } from "../../outbox/index.js";
import type { Clock } from "../../shared/clock.js";
import type { Logger } from "../../shared/logger.js";
import { ACTION_IDS, INPUT_IDS, VIEW_IDS } from "../action-ids.js";
import { parseButtonClick, safeJson } from "../interactions.js";
import type { SlackApi } from "../web-api.js";
import { overrideConfirmation } from "./override-command.js";

/** What the modal needs. */
export interface OverrideModalDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  audit: Pick<AuditLog, "record">;
  overrides: Pick<OverrideService, "create" | "manageable">;
  /** The Web API (views.open); throws while Slack is not connected. */
  api: () => SlackApi;
  /** The viewer's zone (Slack's `tz`, else the workspace's), for the confirmation. */
  viewerTz: (user: string) => Promise<string>;
  /** Wakes the outbox dispatcher after the confirmation is queued. */
  wake: () => void;
}

/** Who may not set overrides is told this (the same rule as the command's). */
export const MODAL_REFUSAL =
  "Only a schedule's own people and those `workspace.permissions.manage_oncall` names may set on-call overrides.";

/** The *Add override* button under an on-call answer; `schedule` is preselected in the modal. */
export function addOverrideBlock(schedule?: string): KnownBlock {
  return {
    type: "actions",
    elements: [
      {
        type: "button",
        action_id: ACTION_IDS.oncallAddOverride,
        text: { type: "plain_text", text: "Add override" },
        value: schedule ?? "",
      },
    ],
  };
}

const plain = (text: string) => ({ type: "plain_text" as const, text });

/** The modal: schedule (those the person may manage), who, from and to (on the person's own clock). */
export function overrideModal(opts: {
  schedules: readonly string[];
  selected?: string | undefined;
  user: string;
  now: Date;
  channel: string;
}): View {
  const option = (name: string) => ({ text: plain(name), value: name });
  const initial =
    opts.selected && opts.schedules.includes(opts.selected)
      ? opts.selected
      : opts.schedules.length === 1
        ? opts.schedules[0]
        : undefined;
  const nowS = Math.floor(opts.now.getTime() / 1000);
  return {
    type: "modal",
    callback_id: VIEW_IDS.oncallOverride,
    title: plain("On-call override"),
    submit: plain("Set override"),
    close: plain("Cancel"),
    private_metadata: JSON.stringify({ channel: opts.channel }),
    blocks: [
      {
        type: "input",
        block_id: INPUT_IDS.overrideSchedule,
        label: plain("Schedule"),
        element: {
          type: "static_select",
          action_id: INPUT_IDS.overrideSchedule,
          placeholder: plain("Choose a schedule"),
          options: opts.schedules.slice(0, 100).map(option),
          ...(initial ? { initial_option: option(initial) } : {}),
        },
      },
      {
        type: "input",
        block_id: INPUT_IDS.overrideUser,
        label: plain("Who is on call"),
        element: { type: "users_select", action_id: INPUT_IDS.overrideUser, initial_user: opts.user },
      },
      {
        type: "input",
        block_id: INPUT_IDS.overrideFrom,
        label: plain("From"),
        element: { type: "datetimepicker", action_id: INPUT_IDS.overrideFrom, initial_date_time: nowS },
      },
      {
        type: "input",
        block_id: INPUT_IDS.overrideTo,
        label: plain("Until"),
        element: { type: "datetimepicker", action_id: INPUT_IDS.overrideTo },
      },
      {
        type: "context",
        elements: [
          {
            type: "mrkdwn",
            text: "Times are on your own clock. The override is audited; undo it with `/mlops oncall undo <id>`.",
          },
        ],
      },
    ],
  };
}

const field = z
  .object({
    selected_option: z.object({ value: z.string() }).loose().nullish(),
    selected_user: z.string().nullish(),
    selected_date_time: z.number().int().nullish(),
  })
  .loose();

const submissionSchema = z.object({
  user: z.object({ id: z.string().min(1) }),
  view: z.object({
    private_metadata: z.string(),
    state: z.object({ values: z.record(z.string(), z.record(z.string(), field)) }),
  }),
});

/** What the modal submitted, each input possibly empty. */
interface OverrideSubmission {
  actor: string;
  channel: string;
  schedule: string | undefined;
  who: string | undefined;
  from: Date | undefined;
  to: Date | undefined;
}

/** The submission in `body`, or undefined when it is not this modal's shape. */
export function parseOverrideSubmission(body: unknown): OverrideSubmission | undefined {
  const parsed = submissionSchema.safeParse(body);
  if (!parsed.success) return undefined;
  const meta = z
    .object({ channel: z.string().min(1) })
    .safeParse(safeJson(parsed.data.view.private_metadata));
  if (!meta.success) return undefined;
  const values = parsed.data.view.state.values;
  const input = (id: string) => values[id]?.[id];
  const instant = (id: string) => {
    const s = input(id)?.selected_date_time;
    return typeof s === "number" ? new Date(s * 1000) : undefined;
  };
  return {
    actor: parsed.data.user.id,
    channel: meta.data.channel,
    schedule: input(INPUT_IDS.overrideSchedule)?.selected_option?.value ?? undefined,
    who: input(INPUT_IDS.overrideUser)?.selected_user ?? undefined,
    from: instant(INPUT_IDS.overrideFrom),
    to: instant(INPUT_IDS.overrideTo),
  };
}

/** What is wrong with each input, before anything is asked of the service; empty when nothing. */
export function submissionErrors(s: OverrideSubmission, now: Date): Record<string, string> {
  const errors: Record<string, string> = {};
  if (!s.schedule) errors[INPUT_IDS.overrideSchedule] = "Choose a schedule.";
  if (!s.who) errors[INPUT_IDS.overrideUser] = "Choose who is on call.";
  if (!s.from) errors[INPUT_IDS.overrideFrom] = "Pick when the override starts.";
  if (!s.to) errors[INPUT_IDS.overrideTo] = "Pick when the override ends.";
  else if (s.from && s.to.getTime() <= s.from.getTime())
    errors[INPUT_IDS.overrideTo] = "The override must end after it starts.";
  else if (s.to.getTime() <= now.getTime())
    errors[INPUT_IDS.overrideTo] = "The override ends in the past: the past cannot be changed.";
  return errors;
}

/** The input a refusal from the service belongs to. */
function blockOf(err: OnCallError): string {
  if (err.code === "bad_override")
    return /not a Slack user/.test(err.message) ? INPUT_IDS.overrideUser : INPUT_IDS.overrideTo;
  return INPUT_IDS.overrideSchedule;
}

/** Registers the button and the submission on the Bolt app. */
export function registerOverrideModal(app: App, deps: OverrideModalDeps): void {
  const tell = (respond: RespondFn, text: string) =>
    respond({ response_type: "ephemeral", replace_original: false, text }).catch((err: unknown) =>
      deps.logger.warn({ err }, "could not answer the Add override button"),
    );

  app.action(ACTION_IDS.oncallAddOverride, async ({ ack, body, respond }) => {
    await ack();
    const click = parseButtonClick(body);
    if (!click?.triggerId) return;
    const schedules = await deps.overrides.manageable(click.user);
    if (!schedules.length) {
      await deps.audit.record({
        source: "slack",
        actor: click.user,
        action: "oncall.override",
        target: click.value || "(modal)",
        outcome: "refused",
        detail: { via: "modal" },
      });
      await tell(respond, `:warning: ${MODAL_REFUSAL}`);
      return;
    }
    try {
      await deps.api().call("views.open", {
        trigger_id: click.triggerId,
        view: overrideModal({
          schedules,
          selected: click.value,
          user: click.user,
          now: deps.clock.now(),
          channel: click.channel,
        }),
      });
    } catch (err) {
      deps.logger.warn({ err }, "could not open the override modal");
    }
  });

  app.view(VIEW_IDS.oncallOverride, async ({ ack, body }) => {
    const s = parseOverrideSubmission(body);
    if (!s) {
      deps.logger.warn("ignored an override modal submission with an unexpected payload");
      await ack();
      return;
    }
    const errors = submissionErrors(s, deps.clock.now());
    if (Object.keys(errors).length || !s.schedule || !s.who || !s.from || !s.to) {
      await ack({ response_action: "errors", errors });
      return;
    }
    let row: Awaited<ReturnType<OverrideModalDeps["overrides"]["create"]>>;
    try {
      row = await deps.overrides.create({
        actor: s.actor,
        schedule: s.schedule,
        who: s.who,
        from: s.from,
        to: s.to,
      });
    } catch (err) {
      if (err instanceof OnCallError) {
        await ack({ response_action: "errors", errors: { [blockOf(err)]: err.message } });
        return;
      }
      deps.logger.error({ err }, "the override modal failed");
      await ack({
        response_action: "errors",
        errors: { [INPUT_IDS.overrideSchedule]: "Something went wrong on our side; it has been logged." },
      });
      return;
    }
    await ack();
    // The override is stored and audited; the confirmation is the command's, as an ephemeral.
    try {
      const tz = await deps.viewerTz(s.actor);
      await createOutboxRepository(deps.db).enqueue(
        {
          method: "chat.postEphemeral",
          channel: s.channel,
          payload: { user: s.actor, text: overrideConfirmation(row, tz) },
        },
        deps.clock.now(),
      );
      deps.wake();
    } catch (err) {
      deps.logger.error({ err, override: row.id }, "could not queue the override's confirmation");
    }
  });
}
