import { App, type Receiver } from "@slack/bolt";
import type { Logger } from "../shared/logger.js";
import { boltLogger } from "./bolt-logger.js";
import type { CommandRouter } from "./commands/router.js";
import { COMMAND_WORKING_TEXT, type CommandDeps, type CommandReply } from "./commands/types.js";

/**
 * How Slack reaches the Bolt app: the fastify receiver (HTTP) or the Socket Mode receiver, which
 * deduplicates redelivered envelopes (Bolt's own `socketMode: true` receiver does not).
 */
export type SlackTransport = { kind: "receiver"; receiver: Receiver };

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
  /**
   * How long a command may work before it is acknowledged with "working on it" and answered later
   * through its response_url (Slack gives up on an ack after 3 s; default 2 s).
   */
  commandAckBudgetMs?: number;
}

/** Slack drops a command unacknowledged after 3 s; what is not answered by this is answered later. */
const COMMAND_ACK_BUDGET_MS = 2_000;

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
  const app = new App({ ...common, receiver: deps.transport.receiver });

  app.error(async (error) => {
    logger.error({ err: error.original ?? error, code: error.code }, "Slack listener failed");
  });

  app.command("/mlops", async ({ command, ack, respond }) => {
    type Outcome = { reply: CommandReply; name: string; known: boolean; failed?: boolean };
    const work: Promise<Outcome> = router
      .dispatch(
        command.text ?? "",
        {
          userId: command.user_id,
          userName: command.user_name,
          teamId: command.team_id,
          channelId: command.channel_id,
          triggerId: command.trigger_id,
        },
        commandDeps,
      )
      .catch((err: unknown) => {
        // Answer anyway: an unanswered command shows the person Slack's bare "dispatch_failed".
        logger.error({ err }, "a /mlops command failed");
        return {
          name: "failed",
          known: true,
          failed: true,
          reply: { text: "Something went wrong on our side running that command; it has been logged." },
        };
      });
    // A command that needs longer than the ack budget (building a reference, a report over a busy
    // database) is acknowledged at once and answered through its response_url when it is done, so
    // Slack never drops it as timed out while its work goes on.
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), deps.commandAckBudgetMs ?? COMMAND_ACK_BUDGET_MS);
    });
    const first = await Promise.race([work, late]);
    clearTimeout(timer);
    const message = (reply: CommandReply) => ({
      response_type: reply.inChannel ? ("in_channel" as const) : ("ephemeral" as const),
      text: reply.text,
      ...(reply.blocks ? { blocks: reply.blocks } : {}),
    });
    let outcome: Outcome;
    if (first !== "late") {
      outcome = first;
      await ack(message(outcome.reply));
    } else {
      await ack({ response_type: "ephemeral", text: COMMAND_WORKING_TEXT });
      outcome = await work;
      await respond({ ...message(outcome.reply), replace_original: false }).catch((err: unknown) =>
        logger.error({ err, command: outcome.name }, "could not deliver a late /mlops answer"),
      );
    }
    const { name, known } = outcome;
    // The request log of commands is batched after the ack: commands that change something write
    // their own records (the incident timeline) before they answer, so this log only risks the
    // last fraction of a second of read requests on a crash, and keeps the ack path free of I/O.
    commandDeps.audit.recordSoon({
      source: "slack",
      actor: command.user_id,
      action: `command.${known ? name : "unknown"}`,
      target: command.channel_id,
      outcome: outcome.failed ? "error" : known ? "ok" : "refused",
      detail: { text: (command.text ?? "").slice(0, 500), ...(first === "late" ? { late: true } : {}) },
    });
  });

  for (const register of deps.listeners ?? []) register(app);

  return app;
}
