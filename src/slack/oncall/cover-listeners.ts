/**
 * *Find cover* (on a handoff reminder) asks the alert channel for someone to take the shift;
 * *Take this shift* (on that request) makes the clicker an override for it.
 */
import type { App, BlockAction, RespondFn } from "@slack/bolt";
import type { Db } from "../../db/index.js";
import { OnCallError, type OverrideService } from "../../oncall/index.js";
import { createOutboxRepository } from "../../outbox/index.js";
import type { Clock } from "../../shared/clock.js";
import type { Logger } from "../../shared/logger.js";
import { escapeMrkdwn } from "../../shared/text.js";
import { ACTION_IDS } from "../action-ids.js";
import { slackTime } from "./handoff-dm.js";

/** What the cover buttons need. */
export interface CoverDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  overrides: Pick<OverrideService, "create">;
  /** The configured schedules: a request for another name (a forged value) posts nothing. */
  schedules: readonly string[];
  /** Where cover is asked for (`workspace.alert_channel`). */
  channel: string;
  /** Wakes the outbox dispatcher. */
  wake: () => void;
}

/** A shift as a button carries it. */
interface ShiftValue {
  schedule: string;
  start: Date;
  end: Date;
  asker?: string;
}

/** Reads `<schedule>|<start ms>|<end ms>[|<asker>]`; null when it is not that. */
export function parseShiftValue(value: string | undefined): ShiftValue | null {
  const m = /^([a-z0-9][a-z0-9-]{0,62})\|(\d{1,15})\|(\d{1,15})(?:\|([UW][A-Z0-9]+))?$/.exec(value ?? "");
  if (!m) return null;
  const [, schedule, start, end, asker] = m as unknown as [string, string, string, string, string?];
  return {
    schedule,
    start: new Date(Number(start)),
    end: new Date(Number(end)),
    ...(asker ? { asker } : {}),
  };
}

/** The message asking for cover, with the button that takes the shift. */
export function coverRequest(s: ShiftValue & { asker: string }) {
  const text = `<@${s.asker}> asks for cover in *${escapeMrkdwn(s.schedule)}* from ${slackTime(s.start)} until ${slackTime(s.end)}.`;
  return {
    text: `Cover wanted in ${s.schedule} from ${s.start.toISOString()} until ${s.end.toISOString()}`,
    blocks: [
      { type: "section", text: { type: "mrkdwn", text } },
      {
        type: "actions",
        elements: [
          {
            type: "button",
            style: "primary",
            action_id: ACTION_IDS.oncallTakeShift,
            text: { type: "plain_text", text: "Take this shift" },
            value: `${s.schedule}|${s.start.getTime()}|${s.end.getTime()}|${s.asker}`,
          },
        ],
      },
    ],
  };
}

function clickOf(body: unknown): { user: string; value: string | undefined } | null {
  const b = body as BlockAction;
  const action = b.actions?.[0];
  if (!b.user?.id || !action || action.type !== "button") return null;
  return { user: b.user.id, value: action.value };
}

/** Registers both buttons on the Bolt app. */
export function registerCoverListeners(app: App, deps: CoverDeps): void {
  async function tell(respond: RespondFn, text: string) {
    await respond({ response_type: "ephemeral", replace_original: false, text }).catch((err: unknown) =>
      deps.logger.warn({ err }, "could not answer an on-call button"),
    );
  }

  app.action(ACTION_IDS.oncallFindCover, async ({ ack, body, respond }) => {
    await ack();
    const click = clickOf(body);
    const shift = parseShiftValue(click?.value);
    if (!click || !shift || !deps.schedules.includes(shift.schedule)) return;
    await createOutboxRepository(deps.db).enqueue(
      {
        method: "chat.postMessage",
        channel: deps.channel,
        payload: coverRequest({ ...shift, asker: click.user }),
      },
      deps.clock.now(),
    );
    deps.wake();
    await tell(
      respond,
      `Asked for cover in <#${deps.channel.replace(/^#/, "")}>; whoever takes it is put on call for that shift.`,
    );
  });

  app.action(ACTION_IDS.oncallTakeShift, async ({ ack, body, respond }) => {
    await ack();
    const click = clickOf(body);
    const shift = parseShiftValue(click?.value);
    if (!click || !shift) return;
    // A shift already under way is taken from now on.
    const from = new Date(Math.max(shift.start.getTime(), deps.clock.now().getTime()));
    try {
      const row = await deps.overrides.create({
        actor: click.user,
        schedule: shift.schedule,
        who: click.user,
        from: from.getTime() < shift.end.getTime() ? from : shift.start,
        to: shift.end,
      });
      const text = `<@${click.user}> took the *${escapeMrkdwn(shift.schedule)}* shift from ${slackTime(row.from)} until ${slackTime(row.to)}${shift.asker ? ` for <@${shift.asker}>` : ""} (override #${row.id}; undo with \`/mlops oncall undo ${row.id}\`).`;
      await respond({
        replace_original: true,
        text,
        blocks: [{ type: "section", text: { type: "mrkdwn", text } }],
      });
    } catch (err) {
      if (!(err instanceof OnCallError)) {
        deps.logger.error({ err }, "taking a shift failed");
        await tell(respond, "Something went wrong on our side; it has been logged.");
        return;
      }
      await tell(respond, `:warning: ${err.message}`);
    }
  });
}
