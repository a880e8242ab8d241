/** Reference use cases: build and store a profile from a window or from a labelled upload. */
import type { IngestService } from "../ingest/index.js";
import type { ModelRegistry } from "../models/index.js";
import type { Clock } from "../shared/clock.js";
import { buildReferenceProfile } from "./baseline.js";
import { InvalidRequestError } from "./errors.js";
import type { ReferenceProfile } from "./profile.js";
import type { MonitoringRepository } from "./repository.js";
import type { WindowRepository } from "./window-repository.js";

/** A stored profile, as the API and Slack report it. */
export interface StoredProfile {
  profileId: number;
  model: string;
  rows: number;
  labelledRows: number;
  from: string | null;
  to: string | null;
  features: number;
  calibrated: boolean;
}

function describe(model: string, profileId: number, p: ReferenceProfile): StoredProfile {
  return {
    profileId,
    model,
    rows: p.rows,
    labelledRows: p.labelledRows,
    from: p.from,
    to: p.to,
    features: p.features.length,
    calibrated: p.calibration !== null,
  };
}

/** The reference service. */
export function createReferenceService(deps: {
  registry: ModelRegistry;
  windows: WindowRepository;
  runs: MonitoringRepository;
  ingest: IngestService;
  clock: Clock;
  /** A model's `monitors.multivariate` settings (the baseline then fits the multivariate reference). */
  multivariateOf?: (slug: string) => { variance: number } | undefined;
  /** Told when a model's baseline changed (the ingest scorer drops its cached fit). */
  onBaseline?: (modelId: number) => void;
}) {
  const optionsOf = (slug: string) => {
    const multivariate = deps.multivariateOf?.(slug);
    return multivariate ? { multivariate: { variance: multivariate.variance } } : {};
  };
  return {
    /** Profiles the predictions of [from, to) (optionally of one version) and stores it as the model's reference. */
    async fromWindow(
      slug: string,
      from: Date,
      to: Date,
      by: string,
      version?: string,
    ): Promise<StoredProfile> {
      const model = deps.registry.get(slug);
      if (!(from.getTime() < to.getTime()))
        throw new InvalidRequestError("the window must start before it ends");
      const src = { kind: "window" as const, modelId: model.id, from, to, ...(version ? { version } : {}) };
      const profile = await buildReferenceProfile(deps.windows, model, src, optionsOf(slug));
      const profileId = await deps.runs.saveProfile({
        modelId: model.id,
        modelVersion: version ?? null,
        source: {
          kind: "window",
          from: from.toISOString(),
          to: to.toISOString(),
          ...(version ? { version } : {}),
        },
        profile,
        createdBy: by,
        at: deps.clock.now(),
      });
      deps.onBaseline?.(model.id);
      return describe(slug, profileId, profile);
    },
    /** Validates a labelled upload, profiles it and stores it; the staged rows are deleted afterwards. */
    async fromUpload(slug: string, body: unknown, by: string): Promise<StoredProfile> {
      const staged = await deps.ingest.stageReference(slug, body);
      try {
        const profile = await buildReferenceProfile(
          deps.windows,
          staged.model,
          { kind: "upload", uploadId: staged.uploadId },
          optionsOf(slug),
        );
        const versions = [...new Set(staged.rows.map((r) => r.model_version))];
        const profileId = await deps.runs.saveProfile({
          modelId: staged.model.id,
          modelVersion: versions.length === 1 ? (versions[0] as string) : null,
          source: { kind: "upload", rows: staged.rows.length },
          profile,
          createdBy: by,
          at: deps.clock.now(),
        });
        deps.onBaseline?.(staged.model.id);
        return describe(slug, profileId, profile);
      } finally {
        await deps.ingest.dropReference(staged.uploadId);
      }
    },
    /** The profile in force, summarised, or null. */
    async current(slug: string): Promise<StoredProfile | null> {
      const p = await deps.runs.latestProfile(deps.registry.get(slug).id);
      return p ? describe(slug, p.id, p.profile) : null;
    },
  };
}

/** The reference service. */
export type ReferenceService = ReturnType<typeof createReferenceService>;
