/** Reference use cases: build and store a profile from a window or from a labelled upload. */
import type { IngestService } from "../ingest/index.js";
import { type EmbeddingSpec, type VectorColumn, vectorAt } from "../ingest/vector.js";
import type { ModelRegistry } from "../models/index.js";
import type { Clock } from "../shared/clock.js";
import { buildReferenceProfile, MIN_REFERENCE_ROWS } from "./baseline.js";
import type { EmbeddingSampleRepository } from "./embedding-samples.js";
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
  /** What the reference could not fit, and why (an embedding without enough sampled vectors); absent when nothing. */
  notes?: string[];
}

function describe(model: string, profileId: number, p: ReferenceProfile): StoredProfile {
  const notes = Object.entries(p.multivariate?.embeddingNotes ?? {}).map(
    ([feature, why]) => `embedding ${feature} not fitted: ${why}`,
  );
  return {
    profileId,
    model,
    rows: p.rows,
    labelledRows: p.labelledRows,
    from: p.from,
    to: p.to,
    features: p.features.length,
    calibrated: p.calibration !== null,
    ...(notes.length ? { notes } : {}),
  };
}

/**
 * An upload's vectors per embedding feature, in time order, at most `limit` evenly spaced (the
 * fit and the pinned pool stay bounded however large the upload).
 */
function uploadVectors(
  staged: { rows: readonly { ts: Date }[]; vectors: readonly VectorColumn[] },
  limit: number,
): { name: string; vectors: { ts: Date; vector: Float32Array }[]; missing?: string }[] {
  if (limit < 1) return [];
  return staged.vectors.map((c) => {
    const rows = staged.rows
      .map((r, i) => ({ ts: r.ts, i }))
      .filter((r) => c.present[r.i])
      .sort((a, b) => a.ts.getTime() - b.ts.getTime());
    const step = Math.max(1, rows.length / limit);
    const picked: { ts: Date; vector: Float32Array }[] = [];
    for (let x = 0; Math.floor(x) < rows.length && picked.length < limit; x += step) {
      const r = rows[Math.floor(x)] as { ts: Date; i: number };
      picked.push({ ts: r.ts, vector: (vectorAt(c, r.i) as Float32Array).slice() });
    }
    return picked.length >= MIN_REFERENCE_ROWS
      ? { name: c.name, vectors: picked }
      : { name: c.name, vectors: picked, missing: "the upload carries too few vectors of this feature" };
  });
}

/** The reference service. */
export function createReferenceService(deps: {
  registry: ModelRegistry;
  windows: WindowRepository;
  runs: MonitoringRepository;
  ingest: IngestService;
  clock: Clock;
  /** A model's `monitors.multivariate` settings (the baseline then fits the multivariate reference). */
  multivariateOf?: (slug: string) =>
    | {
        variance: number;
        embedding_components?: number;
        embedding_sample?: number;
      }
    | undefined;
  /** A model's embedding features (config `features[]` of type embedding). */
  embeddingsOf?: (slug: string) => readonly EmbeddingSpec[];
  /** The embedding sample: the window baseline's vectors, and the reference pool it pins. */
  samples?: EmbeddingSampleRepository;
  /** Told when a model's baseline changed (the ingest scorer drops its cached fit). */
  onBaseline?: (modelId: number) => void;
}) {
  type Vectors = { name: string; vectors: { ts: Date; vector: Float32Array }[]; missing?: string }[];
  const optionsOf = (slug: string, embeddings: Vectors) => {
    const multivariate = deps.multivariateOf?.(slug);
    return multivariate
      ? {
          multivariate: {
            variance: multivariate.variance,
            components: multivariate.embedding_components ?? 2,
            embeddings: embeddings.map((e) => ({
              name: e.name,
              vectors: e.vectors.map((v) => v.vector),
              ...(e.missing ? { missing: e.missing } : {}),
            })),
          },
        }
      : {};
  };
  const sampleSize = (slug: string) => deps.multivariateOf?.(slug)?.embedding_sample ?? 2000;
  /** The ring's vectors in a window, per embedding feature (and why there are none, if so). */
  async function windowVectors(slug: string, modelId: number, from: Date, to: Date): Promise<Vectors> {
    const specs = deps.multivariateOf?.(slug) ? (deps.embeddingsOf?.(slug) ?? []) : [];
    const samples = deps.samples;
    if (!samples) return [];
    return Promise.all(
      specs.map(async ({ name, dimensions }) => {
        // Vectors of another length (the config's dimensions changed) are not this feature's any more.
        const vectors = (await samples.recent(modelId, name, from, to, sampleSize(slug))).filter(
          (v) => v.vector.length === dimensions,
        );
        if (vectors.length >= MIN_REFERENCE_ROWS) return { name, vectors };
        const span = await samples.ringSpan(modelId, name);
        const missing = span.first
          ? `the sample keeps the latest ${sampleSize(slug)} vectors, now from ${span.first.toISOString()} to ${span.last?.toISOString()}; set the baseline over a window it covers, or upload a labelled reference carrying the vectors`
          : "no vector has been sampled yet; ingest predictions carrying the vector first";
        return { name, vectors, missing };
      }),
    );
  }
  /** Pins the vectors each fitted embedding came from under the new profile's id. */
  async function pin(modelId: number, profileId: number, profile: ReferenceProfile, vectors: Vectors) {
    const fitted = new Set(profile.multivariate?.embeddings.map((e) => e.name) ?? []);
    await deps.samples?.pin(
      modelId,
      profileId,
      vectors
        .filter((e) => fitted.has(e.name))
        .flatMap((e) => e.vectors.map((v) => ({ feature: e.name, ...v }))),
    );
  }
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
      const vectors = await windowVectors(slug, model.id, from, to);
      const profile = await buildReferenceProfile(deps.windows, model, src, optionsOf(slug, vectors));
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
      await pin(model.id, profileId, profile, vectors);
      deps.onBaseline?.(model.id);
      return describe(slug, profileId, profile);
    },
    /** Validates a labelled upload, profiles it and stores it; the staged rows are deleted afterwards. */
    async fromUpload(slug: string, body: unknown, by: string): Promise<StoredProfile> {
      const staged = await deps.ingest.stageReference(slug, body);
      try {
        const vectors = uploadVectors(staged, deps.multivariateOf?.(slug) ? sampleSize(slug) : 0);
        const profile = await buildReferenceProfile(
          deps.windows,
          staged.model,
          { kind: "upload", uploadId: staged.uploadId },
          optionsOf(slug, vectors),
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
        await pin(staged.model.id, profileId, profile, vectors);
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
