/**
 * On-call schedules: the engine over the config's schedules, their iCalendar feeds, and
 * `/mlops oncall [model|schedule]` (schedules here, models through escalation's command).
 */
import type { Feature, FeatureContext } from "../features.js";
import { scheduleRoutes } from "../http/schedule-routes.js";
import { sandboxNames } from "../incidents/index.js";
import { createOnCallService, type OnCallService } from "../oncall/index.js";
import type { Subcommand } from "../slack/commands/types.js";
import { onCallCommand } from "../slack/oncall/commands.js";
import { type SlackApi, slackApiOf } from "../slack/web-api.js";

/** The on-call feature plus its service, for the escalation path and tests. */
export interface OnCallFeature extends Feature {
  oncall: OnCallService;
}

/**
 * Builds the on-call feature; `previous` gives the `oncall` subcommand it extends (escalation's,
 * for models; built after this feature, whose engine escalation pages through). Reading an
 * imported schedule's file happens here, so a bad one stops the start.
 */
export function createOnCallFeature(
  ctx: FeatureContext,
  deps: { previous?: () => Subcommand | undefined } = {},
): OnCallFeature {
  const names = sandboxNames(ctx.config);
  const oncall = createOnCallService({
    config: ctx.config,
    clock: ctx.clock,
    // The sandbox's made-up people by name; with real Slack the feed shows user ids.
    displayName: (user) => names.get(user),
  });
  let api: SlackApi | undefined;
  return {
    name: "oncall",
    oncall,
    http: scheduleRoutes({ oncall, apiTokens: ctx.apiTokens }),
    commands: [
      onCallCommand({
        oncall,
        previous: () => deps.previous?.(),
        clock: ctx.clock,
        slackApi: () => api,
        fallbackTz: ctx.config.workspace.timezone,
      }),
    ],
    slack(app) {
      api = slackApiOf(app.client, ctx.logger);
    },
  };
}
