import { isTimeZone } from "../../config/index.js";
import { OnCallError, type OnCallService, type OverrideService } from "../../oncall/index.js";
import type { Clock } from "../../shared/clock.js";
import { escapeMrkdwn } from "../../shared/text.js";
import type { CommandContext, CommandReply, Subcommand } from "../commands/types.js";
import type { SlackApi } from "../web-api.js";
import { scheduleOnCallReply } from "./blocks.js";
import { runOverride, runUndo } from "./override-command.js";
import { addOverrideBlock } from "./override-modal.js";

/** What `/mlops oncall` needs. */
export interface OnCallCommandDeps {
  oncall: Pick<OnCallService, "names" | "nowAndNext" | "remoteStatus">;
  /** The `oncall` subcommand this one extends (escalation's: a model's tiers); used for anything but a schedule. */
  previous?: () => Subcommand | undefined;
  clock: Clock;
  /** The Web API once Slack is connected (for users.info). */
  slackApi: () => SlackApi | undefined;
  /** The zone times are shown in when Slack has none for the viewer (`workspace.timezone`). */
  fallbackTz: string;
  /** Stored overrides: `override` and `undo`, and the list under a schedule; absent → neither. */
  overrides?: Pick<OverrideService, "create" | "undo" | "upcoming" | "manageable">;
}

/** The viewer's time zone from Slack (`users.info` → `user.tz`), or null when Slack has none. */
export async function viewerTimeZone(api: SlackApi | undefined, user: string): Promise<string | null> {
  if (!api) return null;
  try {
    const res = await api.call("users.info", { user });
    const tz = (res.user as { tz?: unknown } | undefined)?.tz;
    return typeof tz === "string" && isTimeZone(tz) ? tz : null;
  } catch {
    // Times in the workspace's zone are still right, only less convenient.
    return null;
  }
}

/** `reply` with *Add override* under it when `user` may set overrides on some schedule. */
async function withAddOverride(
  reply: CommandReply,
  user: string,
  overrides: OnCallCommandDeps["overrides"],
  schedule?: string,
): Promise<CommandReply> {
  if (!overrides || !(await overrides.manageable(user)).length) return reply;
  const blocks = reply.blocks ?? [{ type: "section", text: { type: "mrkdwn", text: reply.text } }];
  return { ...reply, blocks: [...blocks, addOverrideBlock(schedule)] };
}

/** `/mlops oncall [model|schedule]`: a schedule's now and next in the viewer's time zone, else the model view. */
export function onCallCommand(deps: OnCallCommandDeps): Subcommand {
  const schedules = deps.oncall.names();
  return {
    name: "oncall",
    usage: "[model|schedule] | override <schedule> @person <from> <to> | undo <id>",
    summary: `Who is on call now: a model's L1, L2 and L3, or a schedule's now and next in your time zone${schedules.length ? ` (${schedules.join(", ")})` : ""}`,
    async run(ctx: CommandContext, commandDeps) {
      const arg = ctx.args[0];
      const overrides = deps.overrides;
      if (overrides && (arg === "override" || arg === "undo")) {
        const viewerTz = async (user: string) =>
          (await viewerTimeZone(deps.slackApi(), user)) ?? deps.fallbackTz;
        const sub = { overrides, clock: deps.clock, viewerTz };
        return arg === "override" ? runOverride(sub, ctx) : runUndo(sub, ctx);
      }
      const isModel = commandDeps.config.models.some((m) => m.slug === arg);
      const one = ctx.args.length <= 1;
      // A name that is both a model and a schedule shows the model (its tiers name the schedule).
      const previous = deps.previous?.();
      if (previous && one && (!arg || isModel)) {
        const reply = await previous.run(ctx, commandDeps);
        if (!schedules.length) return reply;
        if (arg) return withAddOverride(reply, ctx.userId, overrides);
        // The overview also says where the schedules are.
        const hint = `Schedules: ${schedules.map((n) => `\`/mlops oncall ${n}\``).join(", ")}`;
        return withAddOverride(
          {
            ...reply,
            ...(reply.blocks
              ? { blocks: [...reply.blocks, { type: "context", elements: [{ type: "mrkdwn", text: hint }] }] }
              : { text: `${reply.text}\n${hint}` }),
          },
          ctx.userId,
          overrides,
        );
      }
      if (!arg || !one || isModel || !schedules.includes(arg))
        return {
          text: `\`${escapeMrkdwn((arg ?? "").slice(0, 40))}\` is neither a model nor a schedule (models: ${commandDeps.config.models.map((m) => m.slug).join(", ")}; schedules: ${schedules.join(", ") || "none"}). Usage: \`/mlops oncall [model|schedule]\``,
        };
      try {
        const view = await deps.oncall.nowAndNext(arg, deps.clock.now());
        const tz = await viewerTimeZone(deps.slackApi(), ctx.userId);
        const listed = (await overrides?.upcoming(arg, deps.clock.now())) ?? [];
        const remote = deps.oncall.remoteStatus().find((r) => r.schedule === arg);
        const reply = scheduleOnCallReply(view, tz ?? deps.fallbackTz, tz !== null, listed, remote);
        return withAddOverride(reply, ctx.userId, overrides, arg);
      } catch (err) {
        if (err instanceof OnCallError) return { text: err.message };
        throw err;
      }
    },
  };
}
