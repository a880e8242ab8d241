import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Feature, FeatureContext } from "../features.js";
import {
  type CommandRunner,
  childProcessRunner,
  createRunbookService,
  type Runbook,
  type RunbookLimits,
  type RunbookService,
} from "../runbooks/index.js";
import { runbookCommands } from "../slack/runbooks/commands.js";
import { openConfirm, registerRunbookListeners } from "../slack/runbooks/listeners.js";
import { createSlackRunbookNotifier } from "../slack/runbooks/notifier.js";
import { type SlackApi, slackApiOf } from "../slack/web-api.js";
import type { IncidentsFeature } from "./incidents-feature.js";

/** Options of the runbooks feature. */
export interface RunbooksFeatureOptions {
  /** The loaded runbooks (`loadRunbooks`), shared with the incident card's suggestions. */
  runbooks: readonly Runbook[];
  /** The incidents feature: its service (incident, alert) and its outbox dispatcher. */
  incidents: Pick<IncidentsFeature, "incidents" | "dispatcher">;
  runner?: CommandRunner;
  limits?: Partial<RunbookLimits>;
}

/** The runbooks feature plus its service, for tests. */
export type RunbooksFeature = Feature & { runbooks: RunbookService };

/**
 * L1 runbooks: `/mlops runbook list|run`, the card's runbook buttons and confirm modal, the child
 * processes and their records. At start, runs a dead process left `running` are marked interrupted.
 */
export function createRunbooksFeature(ctx: FeatureContext, opts: RunbooksFeatureOptions): RunbooksFeature {
  const { database, clock, logger, config } = ctx;
  let api: SlackApi | undefined;
  const slackApi = () => {
    if (!api) throw new Error("Slack is not connected yet");
    return api;
  };
  const { incidents, dispatcher } = opts.incidents;
  const runbooks = createRunbookService({
    db: database.db,
    clock,
    config,
    access: ctx.access,
    notifier: createSlackRunbookNotifier({ clock, wake: () => dispatcher.wake() }),
    runner: opts.runner ?? childProcessRunner,
    logger: logger.child({ component: "runbooks" }),
    runbooks: opts.runbooks,
    snapshot: (id) => incidents.snapshot(id),
    hostEnv: ctx.hostEnv ?? {},
    selfUrl: () => ctx.selfUrl?.(),
    owner: ctx.liveness?.id ?? `${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`,
    livenessHeartbeatMs: ctx.liveness?.heartbeatMs,
    databaseKind: database.kind,
    limits: opts.limits,
  });
  return {
    name: "runbooks",
    runbooks,
    commands: runbookCommands({
      runbooks,
      models: config.models.map((m) => m.slug),
      confirm: (triggerId, prepared, channel) => openConfirm(slackApi(), triggerId, prepared, channel),
    }),
    slack(app) {
      api = slackApiOf(app.client, logger);
      registerRunbookListeners(app, {
        runbooks,
        tell: (to, text) => incidents.tell(to, text),
        api: slackApi,
        logger,
      });
    },
    async start(slack) {
      api ??= slackApiOf(slack.client, logger);
      await runbooks.recoverInterrupted();
      runbooks.startHeartbeat();
    },
    async stop() {
      await runbooks.stop();
    },
  };
}
