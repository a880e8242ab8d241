/**
 * Payload logging: halves of logged inferences arrive as CloudEvents in either order; each is
 * mapped and kept in Postgres until its partner (same `ce-id`) comes, then the pair goes through
 * the ingest service like a direct batch (same validation, rollup deltas and replay protection).
 * A half whose partner does not come within `ingest.cloudevents.pair_window` is marked expired by
 * the sweep and counted.
 */
import type { MlopsConfig } from "../config/index.js";
import type { InferenceLoggerConfig } from "../config/inference-logger.js";
import type { Db } from "../db/index.js";
import { type IngestService, validatePredictionBatch } from "../ingest/index.js";
import type { ModelRegistry } from "../models/index.js";
import type { Clock } from "../shared/clock.js";
import type { Logger } from "../shared/logger.js";
import { InvalidEventError } from "./errors.js";
import type { Half, LoggedEvent } from "./event.js";
import { type HalvesRow, pairRows } from "./model.js";
import { mapRequest, mapResponse } from "./protocol.js";
import { createPayloadRepository } from "./repository.js";

/** How many crash-interrupted pairs one sweep completes. */
const SWEEP_BATCH = 500;

/** What the endpoint answers for an accepted event. */
export interface Receipt {
  status: "waiting" | "paired" | "duplicate";
  model: string;
  id: string;
  stored?: number;
}

/** Creates the payload-logging service. */
export function createPayloadLogService(deps: {
  db: Db;
  config: MlopsConfig;
  registry: ModelRegistry;
  ingest: IngestService;
  clock: Clock;
  logger: Logger;
}) {
  const repo = createPayloadRepository(deps.db);
  const settings = deps.config.ingest.cloudevents;
  const targets = new Map<string, { slug: string; mapping: InferenceLoggerConfig; version: string }>();
  for (const m of deps.config.models)
    if (m.inference_logger)
      targets.set(m.inference_logger.inference_service, {
        slug: m.slug,
        mapping: m.inference_logger,
        // The schema refuses a mapping with neither.
        version: m.inference_logger.version ?? m.champion ?? "unknown",
      });
  const slugOf = (modelId: number) => deps.registry.list().find((m) => m.id === modelId)?.slug;
  const versionOf = (slug: string) =>
    [...targets.values()].find((t) => t.slug === slug)?.version ?? "unknown";

  function resolve(event: LoggedEvent) {
    const target = targets.get(event.service);
    if (!target)
      throw new InvalidEventError(
        `ce-inferenceservicename '${event.service.slice(0, 100)}' is not mapped to a model (set models[].inference_logger.inference_service)`,
      );
    const ns = target.mapping.namespace;
    if (ns && event.namespace !== ns)
      throw new InvalidEventError(
        `ce-namespace '${(event.namespace ?? "").slice(0, 100)}' is not ${ns}, the namespace mapped for ${event.service}`,
      );
    return target;
  }

  /** Ingests a complete pair (idempotent: the rows' ids and time come from the pair) and marks it paired. */
  async function finish(slug: string, modelId: number, row: HalvesRow): Promise<number> {
    const { stored } = await deps.ingest.ingestPredictions(slug, pairRows(row, versionOf(slug)));
    await repo.markPaired(modelId, row.eventId, deps.clock.now());
    return stored;
  }

  return {
    /** Takes one logged half; throws InvalidEventError (nothing written) when it cannot be used. */
    async receive(event: LoggedEvent): Promise<Receipt> {
      const target = resolve(event);
      const model = deps.registry.get(target.slug);
      const part =
        event.half === "request"
          ? mapRequest(event.data, target.mapping)
          : mapResponse(event.data, target.mapping);
      const now = deps.clock.now();
      const arrival = await repo.arrive(
        {
          modelId: model.id,
          eventId: event.id,
          half: event.half,
          part,
          time: event.time,
          now,
          expiresAt: new Date(now.getTime() + settings.pair_window),
        },
        (row) => {
          const checked = validatePredictionBatch(pairRows(row, target.version));
          if ("problem" in checked) {
            const { row: i, field, message } = checked.problem;
            throw new InvalidEventError(i === null ? message : `instance ${i}: ${field}: ${message}`);
          }
        },
      );
      const receipt = { model: target.slug, id: event.id };
      if (arrival.state !== "complete") return { status: arrival.state, ...receipt };
      return { status: "paired", ...receipt, stored: await finish(target.slug, model.id, arrival.row) };
    },

    /**
     * The claimed periodic job: completes pairs a crash left un-ingested, expires halves whose
     * window passed (logged, and returned for the counter) and purges rows older than `keep`.
     */
    async sweep(): Promise<{
      completed: number;
      expired: { model: string; half: Half; id: string }[];
      purged: number;
    }> {
      let completed = 0;
      for (const { modelId, row } of await repo.unfinished(SWEEP_BATCH)) {
        const slug = slugOf(modelId);
        if (!slug) continue;
        try {
          await finish(slug, modelId, row);
          completed++;
        } catch (err) {
          // One pair that cannot be stored must not keep the others from expiring; it is retried next sweep.
          deps.logger.error(
            { err, model: slug, id: row.eventId },
            "a logged inference pair could not be stored",
          );
        }
      }
      const now = deps.clock.now();
      const expired = (await repo.expire(now)).map((e) => ({
        model: slugOf(e.modelId) ?? String(e.modelId),
        half: e.half,
        id: e.eventId,
      }));
      if (expired.length > 0)
        deps.logger.warn(
          { expired: expired.length, ids: expired.slice(0, 20).map((e) => `${e.model}:${e.half}:${e.id}`) },
          `${expired.length} logged inference half(s) got no partner within ${settings.pair_window / 1000}s and were not ingested`,
        );
      const purged = await repo.purge(new Date(now.getTime() - settings.keep));
      return { completed, expired, purged };
    },

    /** Waiting and unpaired halves by model, and the latest unpaired ones: what an operator looks at. */
    async report(limit = 50) {
      const counts = await repo.counts();
      const recent = limit > 0 ? await repo.recentExpired(limit) : [];
      return {
        pair_window_ms: settings.pair_window,
        models: counts.map((c) => ({
          model: slugOf(c.modelId) ?? String(c.modelId),
          waiting_request: c.waitingRequest,
          waiting_response: c.waitingResponse,
          unpaired: c.expired,
        })),
        recent_unpaired: recent.map((r) => ({
          model: slugOf(r.modelId) ?? String(r.modelId),
          id: r.eventId,
          half: r.half,
          received_at: r.receivedAt.toISOString(),
          expired_at: r.expiredAt.toISOString(),
        })),
      };
    },
  };
}

/** The payload-logging service. */
export type PayloadLogService = ReturnType<typeof createPayloadLogService>;
