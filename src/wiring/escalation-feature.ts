import {
  createEscalationRepository,
  createEscalationService,
  createEscalationTicker,
  type EscalationService,
  type EscalationTicker,
  type OnCallLookup,
  type PagerQueue,
} from "../escalation/index.js";
import type { Feature, FeatureContext } from "../features.js";
import { escalationCommands } from "../slack/escalation/commands.js";
import { slackPageDirectory } from "../slack/escalation/directory.js";
import { registerEscalationListeners } from "../slack/escalation/listeners.js";
import { createSlackEscalationNotifier } from "../slack/escalation/notifier.js";
import { type SlackApi, slackApiOf } from "../slack/web-api.js";
import type { IncidentsFeature } from "./incidents-feature.js";

/** Tuning for tests and benches; production uses the defaults. */
export interface EscalationFeatureOptions {
  /** How often deadlines and pending pages are looked at (the most a step can be late). */
  tickMs?: number;
}

/** The escalation feature plus the handles tests use. */
export interface EscalationFeature extends Feature {
  escalation: EscalationService;
  ticker: EscalationTicker;
}

/**
 * Escalation L1 → L2 → L3: the Escalate button and the pages' Acknowledge, `/mlops escalate` and
 * `/mlops oncall`, and the timer that escalates unacknowledged incidents and fans pages out. Its
 * Slack writes go through the incidents feature's outbox (and its dispatcher).
 */
export function createEscalationFeature(
  ctx: FeatureContext,
  deps: { incidents: IncidentsFeature; onCall?: OnCallLookup; pagers?: PagerQueue },
  opts: EscalationFeatureOptions = {},
): EscalationFeature {
  const { database, clock, logger, config } = ctx;
  const { incidents } = deps;
  let api: SlackApi | undefined;
  const slackApi = () => {
    if (!api) throw new Error("Slack is not connected yet");
    return api;
  };
  const wake = () => incidents.dispatcher.wake();
  const notifier = createSlackEscalationNotifier({ clock, wake, updateCard: incidents.updateCard });
  const escalationDeps = {
    db: database.db,
    clock,
    config,
    logger: logger.child({ component: "escalation" }),
    access: ctx.access,
    notifier,
    directory: slackPageDirectory(slackApi),
    ...(deps.onCall ? { onCall: deps.onCall } : {}),
    ...(deps.pagers ? { pagers: deps.pagers } : {}),
    acknowledge: (req: Parameters<IncidentsFeature["incidents"]["act"]>[0]) => incidents.incidents.act(req),
  };
  const escalation = createEscalationService(escalationDeps);
  const ticker = createEscalationTicker(escalationDeps, escalation);
  const poke = () => ticker.poke();

  return {
    name: "escalation",
    escalation,
    ticker,
    commands: escalationCommands({ escalation, models: config.models.map((m) => m.slug), poke }),
    slack(app) {
      api = slackApiOf(app.client, logger);
      registerEscalationListeners(app, {
        escalation,
        tell: (to, text) => incidents.incidents.tell(to, text),
        poke,
        logger,
      });
    },
    async start(slack) {
      api ??= slackApiOf(slack.client, logger);
      // PGlite serves one process (a lock file enforces it), so page leases left at start are a dead process's.
      if (database.kind === "pglite") await createEscalationRepository(database.db).releaseAllLeases();
      ticker.start(opts.tickMs);
    },
    async stop() {
      await ticker.stop();
    },
  };
}
