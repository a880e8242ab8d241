/**
 * The retraining feature: `/mlops retrain|canary|models`, the candidate API, the approval card
 * and comparison buttons, the adapter-call worker with its ticker, and the canary checks on the
 * models' schedules. Its Slack writes go through the incidents feature's outbox.
 */
import type { Feature, FeatureContext } from "../features.js";
import { candidateRoutes } from "../http/candidate-routes.js";
import {
  type AdapterClient,
  createAdapterClient,
  createRetrainingService,
  createRetrainingTicker,
  createRolloutService,
  queueChampionChecks,
  type RetrainingService,
  type RetrainingTicker,
  type RolloutService,
} from "../retraining/index.js";
import { createScheduler, type Scheduler } from "../scheduler/index.js";
import type { Subcommand } from "../slack/commands/types.js";
import { retrainingCommands } from "../slack/retraining/commands.js";
import { registerRetrainingListeners } from "../slack/retraining/listeners.js";
import { createSlackRetrainingNotifier } from "../slack/retraining/notifier.js";
import { type SlackApi, slackApiOf } from "../slack/web-api.js";
import type { IncidentsFeature } from "./incidents-feature.js";

/** Options of the retraining feature; production uses the defaults. */
export interface RetrainingFeatureOptions {
  /** Makes the pipeline and deploy calls (fetch and child processes by default). */
  adapters?: AdapterClient;
  /** How often due adapter calls and expiries are looked at. */
  tickMs?: number;
  /** Start the canary checks' cron timers (default true). */
  schedule?: boolean;
  instanceId?: string;
}

/** The feature plus its services, for tests. */
export type RetrainingFeature = Feature & {
  service: RetrainingService;
  rollout: RolloutService;
  ticker: RetrainingTicker;
  scheduler: Scheduler;
};

/** Builds the retraining feature on top of the incidents feature (threads, outbox). */
export function createRetrainingFeature(
  ctx: FeatureContext,
  deps: { incidents: Pick<IncidentsFeature, "dispatcher">; previousModels?: Subcommand | undefined },
  opts: RetrainingFeatureOptions = {},
): RetrainingFeature {
  const { config, clock } = ctx;
  const db = ctx.database.db;
  const logger = ctx.logger.child({ component: "retraining" });
  let server: { address(): unknown } | undefined;
  /** Pipelines call back to where this server listens unless `retraining.callback_url` says otherwise. */
  const listening = (): string => {
    const address = server?.address() as { address: string; port: number } | null | undefined;
    if (!address || typeof address !== "object") return "http://127.0.0.1:3000";
    const host = address.address === "0.0.0.0" || address.address === "::" ? "127.0.0.1" : address.address;
    return `http://${host.includes(":") ? `[${host}]` : host}:${address.port}`;
  };
  let ticker: RetrainingTicker | undefined;
  const retrainingDeps = {
    db,
    clock,
    config,
    access: ctx.access,
    logger,
    adapters: opts.adapters ?? createAdapterClient(),
    notifier: createSlackRetrainingNotifier({ clock, wake: () => deps.incidents.dispatcher.wake() }),
    publicUrl: listening,
    kick: () => void ticker?.kick(),
  };
  const service = createRetrainingService(retrainingDeps);
  const rollout = createRolloutService(retrainingDeps);
  ticker = createRetrainingTicker({ service, rollout, logger });
  const scheduler = createScheduler({
    db,
    clock,
    logger,
    instanceId: opts.instanceId,
    liveness: opts.instanceId ? undefined : ctx.liveness,
  });
  const models = config.models.map((m) => m.slug);
  for (const m of config.models) {
    if (!m.retraining) continue;
    scheduler.add({
      name: `retraining:canary:${m.slug}`,
      cron: m.retraining.canary.schedule,
      run: () => rollout.checkCanaries(m.slug),
    });
  }
  let api: SlackApi | undefined;

  return {
    name: "retraining",
    service,
    rollout,
    ticker,
    scheduler,
    commands: retrainingCommands({ service, rollout, models, previousModels: deps.previousModels }),
    slack(app) {
      api = slackApiOf(app.client, ctx.logger);
      registerRetrainingListeners(app, {
        db,
        service,
        rollout,
        logger,
        api: () => {
          if (!api) throw new Error("Slack is not connected yet");
          return api;
        },
        tell: (to, text) => service.tell(to, text),
      });
    },
    http: async (app) => {
      server = app.server;
      await app.register(candidateRoutes({ apiTokens: ctx.apiTokens, service, models }));
    },
    start(slack) {
      api ??= slackApiOf(slack.client, ctx.logger);
      ticker?.start(opts.tickMs);
      if (opts.schedule !== false) scheduler.start();
      // A registry that disagrees with the bot at start is reported, never overwritten. The
      // monitoring feature started before this one, so the config's champions are synced.
      void queueChampionChecks(retrainingDeps)
        .catch((err: unknown) => logger.error({ err }, "could not queue the registry champion checks"))
        .finally(() => void ticker?.kick());
    },
    async stop() {
      await scheduler.stop();
      await ticker?.stop();
    },
  };
}
