/** `/mlops oncall override <schedule> @user <from> <to>` and `/mlops oncall undo <id>`. */
import { OnCallError, type OverrideRow, type OverrideService, parseSpan } from "../../oncall/index.js";
import type { Clock } from "../../shared/clock.js";
import { escapeMrkdwn } from "../../shared/text.js";
import type { CommandContext, CommandReply } from "../commands/types.js";
import { formatInZone } from "./blocks.js";

/** What the override subcommands need. */
export interface OverrideCommandDeps {
  overrides: Pick<OverrideService, "create" | "undo">;
  clock: Clock;
  /** The viewer's zone (Slack's `tz`, else the workspace's). */
  viewerTz: (user: string) => Promise<string>;
}

const USAGE =
  "Usage: `/mlops oncall override <schedule> @person <from> <to>` (times `YYYY-MM-DD HH:MM` in your time zone, ISO 8601, or `now`)";

/** A user mention as Slack sends it (`<@U123|name>`), or a bare id (`U123`, `@U123`). */
export function mentionedUser(word: string): string | null {
  const m = /^<@([UW][A-Z0-9]+)(\|[^>]*)?>$/.exec(word) ?? /^@?([UW][A-Z0-9]{2,})$/.exec(word);
  return m ? (m[1] as string) : null;
}

/** How an override reads in a reply, times on the viewer's clock. */
export function describeOverride(row: OverrideRow, tz: string): string {
  return `#${row.id}: <@${row.who}> from ${formatInZone(row.from, tz)} until ${formatInZone(row.to, tz)} (set by <@${row.createdBy}>)`;
}

/** The confirmation of a new override (the command's reply, and the modal's ephemeral). */
export function overrideConfirmation(row: OverrideRow, tz: string): string {
  return `Override ${describeOverride(row, tz)} on \`${row.schedule}\` (times in ${tz}). Undo with \`/mlops oncall undo ${row.id}\`.`;
}

function failure(err: unknown): CommandReply {
  if (err instanceof OnCallError) return { text: `:warning: ${err.message}` };
  throw err;
}

/** `override <schedule> @person <from> <to>`: checks everything before anything is stored. */
export async function runOverride(deps: OverrideCommandDeps, ctx: CommandContext): Promise<CommandReply> {
  const [, schedule, person, ...times] = ctx.args;
  if (!schedule || !person) return { text: `:warning: ${USAGE}` };
  const who = mentionedUser(person);
  if (!who)
    return {
      text: `:warning: \`${escapeMrkdwn(person.slice(0, 40))}\` is not a Slack user: mention them (\`@name\`). ${USAGE}`,
    };
  const tz = await deps.viewerTz(ctx.userId);
  const span = parseSpan(times, tz, deps.clock.now());
  if (typeof span === "string") return { text: `:warning: ${escapeMrkdwn(span)} ${USAGE}` };
  try {
    const row = await deps.overrides.create({ actor: ctx.userId, schedule, who, ...span });
    return { text: overrideConfirmation(row, tz) };
  } catch (err) {
    return failure(err);
  }
}

/** `undo <id>`: removes an override, keeping who undid it. */
export async function runUndo(deps: OverrideCommandDeps, ctx: CommandContext): Promise<CommandReply> {
  const raw = (ctx.args[1] ?? "").replace(/^#/, "");
  if (!/^\d{1,15}$/.test(raw))
    return {
      text: ":warning: Usage: `/mlops oncall undo <override id>` (the number `/mlops oncall <schedule>` shows)",
    };
  try {
    const row = await deps.overrides.undo(ctx.userId, Number(raw));
    const tz = await deps.viewerTz(ctx.userId);
    return { text: `Undid override ${describeOverride(row, tz)} on \`${row.schedule}\`.` };
  } catch (err) {
    return failure(err);
  }
}
