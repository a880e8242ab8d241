/**
 * Reports: build a model's report and post it (the message, then its charts in the thread)
 * through the outbox, for `/mlops report` and the weekly digest.
 */
import { eq } from "drizzle-orm";
import { chartMessage } from "../charts/upload.js";
import type { MlopsConfig } from "../config/index.js";
import type { Db } from "../db/index.js";
import { outbox as outboxTable } from "../db/schema/index.js";
import { channelOf } from "../incidents/deps.js";
import type { ModelRegistry } from "../models/index.js";
import { createMonitoringRepository } from "../monitoring/repository.js";
import { createOutboxRepository } from "../outbox/index.js";
import type { Clock } from "../shared/clock.js";
import { reportMessage } from "./blocks.js";
import { buildModelReport, type ModelReport } from "./report.js";

const DAY = 86_400_000;

/** What the report service is built from. */
export interface ReportDeps {
  db: Db;
  config: MlopsConfig;
  registry: ModelRegistry;
  clock: Clock;
  wake: () => void;
}

/** Creates the report service. */
export function createReportService(deps: ReportDeps) {
  const { db, config, registry, clock } = deps;

  async function build(slug: string, periodMs: number, to: Date = clock.now()): Promise<ModelReport> {
    const model = registry.get(slug);
    const modelConfig = config.models.find((m) => m.slug === slug);
    if (!modelConfig) throw new Error(`no config for ${slug}`);
    const profile = await createMonitoringRepository(db).latestProfile(model.id);
    return buildModelReport(db, {
      modelId: model.id,
      config: modelConfig,
      from: new Date(to.getTime() - periodMs),
      to,
      topFingerprints: config.reports.top_fingerprints,
      profile: profile?.profile ?? null,
      pagers: config.pagers,
    });
  }

  /** Queues the report message and, in its thread, its charts; returns the message's outbox id. */
  async function enqueue(tx: Db, channel: string, report: ModelReport, heading: string, key?: string) {
    const outbox = createOutboxRepository(tx);
    const id = await outbox.enqueue(
      {
        method: "chat.postMessage",
        channel,
        payload: { ...reportMessage(report, heading) },
        coalesceKey: key,
      },
      clock.now(),
    );
    const stamp = report.to.toISOString().slice(0, 10);
    for (const [i, chart] of report.charts.entries())
      await outbox.enqueue(
        chartMessage(channel, id, chart, `${report.model}-report-${stamp}-${id}-${i + 1}`),
        clock.now(),
      );
    return id;
  }

  return {
    build,
    /** Builds and posts one model's report into a channel. */
    async post(channel: string, slug: string, periodMs: number): Promise<ModelReport> {
      const report = await build(slug, periodMs);
      await db.transaction((tx) => enqueue(tx, channel, report, "Report"));
      deps.wake();
      return report;
    },
    /**
     * The weekly digest of the tick: every model's report to its channel, in one transaction, each
     * keyed by model and tick so a rerun of the same tick (after a crash) posts nothing twice.
     */
    async weekly(tickAt: Date): Promise<number> {
      const period = config.reports.weekly.period;
      const reports = await Promise.all(registry.list().map((m) => build(m.slug, period, tickAt)));
      let posted = 0;
      await db.transaction(async (tx) => {
        for (const report of reports) {
          const key = `digest:${report.model}:${tickAt.toISOString()}`;
          const [seen] = await tx
            .select({ id: outboxTable.id })
            .from(outboxTable)
            .where(eq(outboxTable.coalesceKey, key))
            .limit(1);
          if (seen) continue;
          await enqueue(tx, channelOf(config, report.model), report, "Weekly digest", key);
          posted++;
        }
      });
      deps.wake();
      return posted;
    },
  };
}

/** The report service. */
export type ReportService = ReturnType<typeof createReportService>;

/** The periods `/mlops report` accepts, in days. */
export const REPORT_DAYS = { min: 1, max: 90 } as const;

/** Parses `7d` or `30d` (any whole number of days in range) into ms, or null. */
export function parsePeriod(word: string): number | null {
  const m = /^(\d{1,3})d$/.exec(word);
  if (!m) return null;
  const days = Number(m[1]);
  return days >= REPORT_DAYS.min && days <= REPORT_DAYS.max ? days * DAY : null;
}
