/**
 * One drift measurement in its own process, so its peak RSS is its own:
 * `drift-child.ts <database-url> <baseline|drift> <slug> <features> <window-seconds|from-ms:to-ms> <reps>`.
 * Prints one JSON line: durations (ms), rows, status, drifted columns, peak RSS (MB).
 */

import { openPostgres } from "../../src/db/index.js";
import { createIngestService } from "../../src/ingest/index.js";
import { createModelRegistry } from "../../src/models/index.js";
import { createReferenceService } from "../../src/monitoring/reference.js";
import { createMonitoringRepository } from "../../src/monitoring/repository.js";
import { createRollupWindowRepository } from "../../src/monitoring/rollup-window.js";
import { createMonitoringService } from "../../src/monitoring/service.js";
import { fetchModelServiceClient } from "../../src/monitoring/service-client.js";
import { createRawWindowRepository } from "../../src/monitoring/window-repository.js";
import { systemClock } from "../../src/shared/clock.js";
import { createLogger } from "../../src/shared/logger.js";
import { createPartitionManager } from "../../src/storage/partitions.js";
import { driftBenchConfig } from "./drift-config.js";

const [url, mode, slug, features, window, reps] = process.argv.slice(2);
if (!url || !mode || !slug || !features || !window)
  throw new Error("usage: drift-child.ts <url> <baseline|drift> <slug> <features> <window> <reps>");
const logger = createLogger("warn");
const database = openPostgres(url, logger, { max: 4 });
const config = driftBenchConfig(mode === "drift" ? `${window}s` : "1d");
const registry = createModelRegistry(database.db, systemClock);
await registry.sync(config);
const runs = createMonitoringRepository(database.db);
// MLOPS_BENCH_SOURCE=raw measures the raw-row reductions the rollups replaced.
const windows =
  process.env.MLOPS_BENCH_SOURCE === "raw"
    ? createRawWindowRepository(database.db)
    : createRollupWindowRepository(database.db);
const durations: number[] = [];
let result: Record<string, unknown> = {};
if (mode === "baseline") {
  const [from, to] = window.split(":").map(Number);
  const ingest = createIngestService({
    db: database.db,
    registry,
    clock: systemClock,
    partitions: createPartitionManager(database.db, "postgres"),
  });
  const reference = createReferenceService({ registry, windows, runs, ingest, clock: systemClock });
  const t0 = performance.now();
  const p = await reference.fromWindow(slug, new Date(from as number), new Date(to as number), "bench");
  durations.push(performance.now() - t0);
  result = { rows: p.rows };
} else {
  const monitoring = createMonitoringService({
    config,
    registry,
    runs,
    windows,
    clock: systemClock,
    sink: { emit: async () => {} },
    services: fetchModelServiceClient,
    logger,
  });
  for (let i = 0; i < Number(reps ?? 1); i++) {
    const t0 = performance.now();
    const run = await monitoring.runMonitor(slug, "drift", "manual");
    durations.push(performance.now() - t0);
    if (run.status === "error" || run.status === "skipped")
      throw new Error(`drift run ${run.status}: ${run.note}`);
    result = { rows: run.rows, status: run.status, drifted: run.findings.map((f) => f.subject) };
  }
}
await database.close();
process.stdout.write(
  `${JSON.stringify({ ...result, durations, maxRssMB: (process.resourceUsage().maxRSS * 1024) / 1e6 })}\n`,
);
