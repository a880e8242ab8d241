import { App, type Receiver } from "@slack/bolt";
import type { Logger } from "../shared/logger.js";
import { boltLogger } from "./bolt-logger.js";
import type { CommandRouter } from "./commands/router.js";
import type { CommandDeps, CommandReply } from "./commands/types.js";

/** How the Bolt app reaches Slack and how Slack reaches it. */
export type SlackTransport = { kind: "receiver"; receiver: Receiver } | { kind: "socket"; appToken: string };

/** Everything the Slack layer needs, passed in by the composition root. */
export interface SlackAppDeps {
  token: string;
  apiUrl: string;
  transport: SlackTransport;
  logger: Logger;
  router: CommandRouter;
  commandDeps: CommandDeps;
  /** Web API retries; tests pass 0 (the default policy backs off for about 30 minutes). */
  retries?: number;
  /** Further listeners (buttons, modals) registered by features. */
  listeners?: ((app: App) => void)[];
  /**
   * The bot's identity when already known (sandbox, or from the start-up token check). Given, Bolt
   * makes no auth.test of its own; otherwise it would start one in its constructor whose failure
   * nobody awaits, and which it would then cache for every later event.
   */
  identity?: { botId: string; botUserId: string };
}

/**
 * Builds the Bolt app and registers its listeners. Listeners stay thin: route, record, and
 * acknowledge with the reply.
 */
export function createSlackApp(deps: SlackAppDeps): App {
  const { logger, router, commandDeps } = deps;
  const common = {
    token: deps.token,
    ...(deps.identity ?? {}),
    logger: boltLogger(logger),
    clientOptions: {
      slackApiUrl: deps.apiUrl,
      ...(deps.retries !== undefined ? { retryConfig: { retries: deps.retries } } : {}),
    },
  };
  const app =
    deps.transport.kind === "socket"
      ? new App({ ...common, appToken: deps.transport.appToken, socketMode: true })
      : new App({ ...common, receiver: deps.transport.receiver });

  app.error(async (error) => {
    logger.error({ err: error.original ?? error, code: error.code }, "Slack listener failed");
  });

  app.command("/mlops", async ({ command, ack }) => {
    let outcome: { reply: CommandReply; name: string; known: boolean; failed?: boolean };
    try {
      outcome = await router.dispatch(
        command.text ?? "",
        {
          userId: command.user_id,
          userName: command.user_name,
          teamId: command.team_id,
          channelId: command.channel_id,
          triggerId: command.trigger_id,
        },
        commandDeps,
      );
    } catch (err) {
      // Answer anyway: an unanswered command shows the person Slack's bare "dispatch_failed".
      logger.error({ err }, "a /mlops command failed");
      outcome = {
        name: "failed",
        known: true,
        failed: true,
        reply: { text: "Something went wrong on our side running that command; it has been logged." },
      };
    }
    const { reply, name, known } = outcome;
    await ack({
      response_type: reply.inChannel ? "in_channel" : "ephemeral",
      text: reply.text,
      ...(reply.blocks ? { blocks: reply.blocks } : {}),
    });
    // The request log of commands is batched after the ack: commands that change something write
    // their own records (the incident timeline) before they answer, so this log only risks the
    // last fraction of a second of read requests on a crash, and keeps the ack path free of I/O.
    commandDeps.audit.recordSoon({
      source: "slack",
      actor: command.user_id,
      action: `command.${known ? name : "unknown"}`,
      target: command.channel_id,
      outcome: outcome.failed ? "error" : known ? "ok" : "refused",
      detail: { text: (command.text ?? "").slice(0, 500) },
    });
  });

  for (const register of deps.listeners ?? []) register(app);

  return app;
}
