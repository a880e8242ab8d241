/**
 * The real-time path of the confidence monitor: every stored batch reports its low-confidence
 * predictions; when `min_count` of them fall within `within`, a finding is recorded and signalled
 * at once instead of at the next tick. Each replica counts the batches it stored (a burst spread
 * over replicas is caught by the scheduled run); the state is only a trigger, never needed for
 * correctness.
 */
import type { MlopsConfig } from "../config/index.js";
import type { IngestedBatch, IngestListener } from "../ingest/index.js";
import type { Clock } from "../shared/clock.js";
import type { Logger } from "../shared/logger.js";
import { burstFinding } from "./monitors/confidence.js";
import type { MonitoringService } from "./service.js";

/** Most timestamps kept per model; a burst needs only min_count of them. */
const MAX_KEPT = 100_000;

/** Creates the ingest listener that raises confidence bursts. */
export function createRealtimeConfidence(deps: {
  config: MlopsConfig;
  monitoring: Pick<MonitoringService, "recordRealtime">;
  clock: Clock;
  logger: Logger;
}): IngestListener & { idle(): Promise<void> } {
  const state = new Map<string, { ts: number[]; firing: boolean }>();
  const pending = new Set<Promise<unknown>>();
  return {
    afterBatch(batch: IngestedBatch) {
      const cfg = deps.config.models.find((m) => m.slug === batch.model.slug)?.monitors.confidence?.realtime;
      if (!cfg) return;
      const now = deps.clock.now().getTime();
      const since = now - cfg.within;
      const s = state.get(batch.model.slug) ?? { ts: [], firing: false };
      state.set(batch.model.slug, s);
      for (const t of batch.lowConfidenceTs) if (t >= since && t <= now + 60_000) s.ts.push(t);
      s.ts = s.ts.filter((t) => t >= since);
      if (s.ts.length > MAX_KEPT) s.ts = s.ts.slice(-MAX_KEPT);
      if (s.ts.length < cfg.min_count) {
        s.firing = false;
        return;
      }
      if (s.firing) return;
      s.firing = true;
      const finding = burstFinding(s.ts.length, cfg.min_count, cfg.within, batch.model.confidenceThreshold);
      const p = deps.monitoring
        .recordRealtime(batch.model.slug, "confidence", finding, { low: s.ts.length, within_ms: cfg.within })
        .catch((err: unknown) =>
          deps.logger.error({ err, model: batch.model.slug }, "could not record a confidence burst"),
        )
        .finally(() => pending.delete(p));
      pending.add(p);
    },
    /** Resolves when every burst being recorded is stored (tests, shutdown). */
    async idle() {
      await Promise.all([...pending]);
    },
  };
}
