/**
 * Reports: `/mlops report [model] [7d|30d]` and the weekly digest posted to each model's channel
 * on a claimed schedule (once across replicas), read in the workspace's time zone.
 */
import type { Feature, FeatureContext } from "../features.js";
import type { ModelRegistry } from "../models/index.js";
import { createReportService, parsePeriod, REPORT_DAYS, type ReportService } from "../reports/service.js";
import { createScheduler, type Scheduler } from "../scheduler/index.js";
import type { Subcommand } from "../slack/commands/types.js";

const DAY = 86_400_000;

/** The reports feature plus its service and scheduler (tests drive them directly). */
export type ReportsFeature = Feature & {
  reports: ReportService;
  scheduler: Scheduler;
  idle(): Promise<void>;
};

/** Builds the reports feature. */
export function createReportsFeature(
  ctx: FeatureContext,
  opts: { registry: ModelRegistry; ready: () => Promise<void>; wake: () => void; instanceId?: string },
): ReportsFeature {
  const { db } = ctx.database;
  const logger = ctx.logger.child({ component: "reports" });
  const reports = createReportService({
    db,
    config: ctx.config,
    registry: opts.registry,
    clock: ctx.clock,
    wake: opts.wake,
  });
  const scheduler = createScheduler({
    db,
    clock: ctx.clock,
    logger,
    instanceId: opts.instanceId,
    liveness: opts.instanceId ? undefined : ctx.liveness,
  });
  const weekly = ctx.config.reports.weekly;
  if (weekly.enabled)
    scheduler.add({
      name: "reports:weekly",
      cron: weekly.schedule,
      timeZone: weekly.timezone ?? ctx.config.workspace.timezone,
      run: async (tickAt) => {
        const posted = await reports.weekly(tickAt);
        logger.info({ tickAt, posted }, "weekly digest posted");
      },
    });
  const pending = new Set<Promise<unknown>>();
  const report: Subcommand = {
    name: "report",
    usage: "[model] [7d|30d]",
    summary: "Post a report of a model (or every model) over the last 7 or 30 days here, with charts",
    async run(c) {
      await opts.ready();
      let slug: string | undefined;
      let period = 7 * DAY;
      for (const word of c.args) {
        const days = parsePeriod(word);
        if (days !== null) period = days;
        else if (/^\d+\w*$/.test(word))
          return {
            text: `\`${word.slice(0, 20)}\` is not a period: use a number of days from ${REPORT_DAYS.min}d to ${REPORT_DAYS.max}d, e.g. \`7d\` or \`30d\`. Nothing was posted.`,
          };
        else if (slug === undefined) slug = word;
        else return { text: "Usage: `/mlops report [model] [7d|30d]`. Nothing was posted." };
      }
      if (slug !== undefined && !opts.registry.find(slug))
        return {
          text: `No model called \`${slug.slice(0, 60)}\`. \`/mlops models\` lists them. Nothing was posted.`,
        };
      const models = slug ? [slug] : opts.registry.list().map((m) => m.slug);
      const job = (async () => {
        for (const m of models) await reports.post(c.channelId, m, period);
      })().catch((err: unknown) => logger.error({ err, models }, "report failed"));
      pending.add(job);
      void job.finally(() => pending.delete(job));
      const days = Math.round(period / DAY);
      return {
        text: `Building the ${days}-day report of ${models.map((m) => `\`${m}\``).join(", ")}; it follows in this channel.`,
      };
    },
  };
  return {
    name: "reports",
    commands: [report],
    start() {
      scheduler.start();
    },
    async stop() {
      await scheduler.stop();
      await Promise.allSettled([...pending]);
    },
    reports,
    scheduler,
    async idle() {
      while (pending.size) await Promise.allSettled([...pending]);
    },
  };
}
