import type { Feature, FeatureContext } from "../features.js";
import { pagerRoutes } from "../http/pager-routes.js";
import {
  createPagerService,
  createPagerWorker,
  type PagerService,
  type PagerWorker,
  pagerQueue,
} from "../pagers/index.js";
import type { IncidentsFeature } from "./incidents-feature.js";

/** Tuning for tests; production uses the defaults. */
export interface PagersFeatureOptions {
  /** How often due pager calls and owed follow-ups are looked at. */
  tickMs?: number;
}

/** The pagers feature plus the handles tests use. */
export interface PagersFeature extends Feature {
  pagers: PagerService;
  worker: PagerWorker;
}

/** The escalation port that queues a tier's `notify` rules (nothing to wire when no pager is configured). */
export const pagerQueueOf = pagerQueue;

/**
 * Pages beyond Slack (docs/pagers.md): the worker that makes pager calls (trigger, acknowledge,
 * resolve) with retries, and the webhook receivers through which providers answer.
 */
export function createPagersFeature(
  ctx: FeatureContext,
  deps: { incidents: IncidentsFeature },
  opts: PagersFeatureOptions = {},
): PagersFeature {
  const { database, clock, config } = ctx;
  const logger = ctx.logger.child({ component: "pagers" });
  const pagerDeps = {
    db: database.db,
    clock,
    config,
    logger,
    act: (req: Parameters<IncidentsFeature["incidents"]["act"]>[0]) => deps.incidents.incidents.act(req),
  };
  const pagers = createPagerService(pagerDeps);
  const worker = createPagerWorker(pagerDeps);
  return {
    name: "pagers",
    pagers,
    worker,
    http: pagerRoutes({ config, pagers, clock, logger }),
    start() {
      if (Object.keys(config.pagers).length > 0) worker.start(opts.tickMs);
    },
    async stop() {
      await worker.stop();
    },
  };
}
