/**
 * Segments: rollups kept per value of a categorical feature (`country=DE`) beside the model's
 * global rollup, so a drop inside one country, channel or tier is not averaged away. Each segment
 * feature keeps at most `cap` values (first seen, per process, seeded from the stored segments);
 * later values fold into `feature=(other)`, as the rollups' category counts do.
 */
import {
  addRow,
  emptyRollup,
  minuteOf,
  type RollupData,
  type RollupLayout,
  type RollupRow,
} from "./model.js";

export { parseSegmentSpec, segmentFeatures } from "../shared/segment-spec.js";

/** The value every segment value past the cap folds into (as the rollups' OTHER_CATEGORY). */
export const SEGMENT_OTHER = "(other)";

/** The segment key of one feature value, e.g. `country=DE`. */
export const segmentKey = (feature: string, value: string): string => `${feature}=${value}`;

/** Splits `country=DE` into its feature and value, or null when it has no `=`. */
export function parseSegment(key: string): { feature: string; value: string } | null {
  const i = key.indexOf("=");
  if (i <= 0) return null;
  return { feature: key.slice(0, i).trim(), value: key.slice(i + 1).trim() };
}

/** A segment feature of a split: its categorical slot, and its listed values if the config names them. */
export interface SegmentFeature {
  name: string;
  index: number;
  /** Only these values are segments (the rest fold into `(other)`); absent: first seen, up to the cap. */
  values?: readonly string[] | null;
}

/** How one model's rows are split into segments: the segment features (by categorical slot) and the value cap. */
export interface SegmentSplit {
  features: readonly SegmentFeature[];
  /** The kept value of a feature value (itself while under the cap, else SEGMENT_OTHER). */
  valueOf(feature: string, value: string): string;
}

/** First-seen segment values per model and feature, at most `cap` each. */
export function createSegmentValues(cap: number) {
  const seen = new Map<string, Set<string>>();
  const setOf = (modelId: number, feature: string) => {
    const k = `${modelId}\u0000${feature}`;
    let s = seen.get(k);
    if (!s) {
      s = new Set();
      seen.set(k, s);
    }
    return s;
  };
  return {
    /** Records stored segment keys (at start), so a restart keeps the same values under the cap. */
    seed(modelId: number, keys: readonly string[]): void {
      for (const key of keys) {
        const p = parseSegment(key);
        if (!p || p.value === SEGMENT_OTHER) continue;
        const s = setOf(modelId, p.feature);
        if (s.size < cap) s.add(p.value);
      }
    },
    /** The split of a model with these segment features (index: 0-based categorical slot). */
    split(modelId: number, features: readonly SegmentFeature[]): SegmentSplit {
      const listed = new Map<string, Set<string>>();
      for (const f of features) if (f.values) listed.set(f.name, new Set(f.values));
      return {
        features,
        valueOf(feature, value) {
          const only = listed.get(feature);
          if (only) return only.has(value) ? value : SEGMENT_OTHER;
          const s = setOf(modelId, feature);
          if (s.has(value)) return value;
          if (s.size < cap) {
            s.add(value);
            return value;
          }
          return SEGMENT_OTHER;
        },
      };
    },
  };
}

/** Segment values tracked per model (see createSegmentValues). */
export type SegmentValues = ReturnType<typeof createSegmentValues>;

/**
 * The segment deltas of a batch: one rollup per (segment, model version, minute). A row whose
 * segment feature is missing belongs to no segment of that feature.
 */
export function segmentBatch(
  rows: readonly (RollupRow & { v: string })[],
  layout: RollupLayout,
  split: SegmentSplit,
): { segment: string; version: string; bucket: Date; data: RollupData }[] {
  const out = new Map<string, { segment: string; version: string; bucket: Date; data: RollupData }>();
  for (const row of rows) {
    const bucket = minuteOf(row.t);
    for (const f of split.features) {
      const raw = row.k[f.index];
      if (raw === null || raw === undefined) continue;
      const segment = segmentKey(f.name, split.valueOf(f.name, raw));
      const key = `${segment}\u0000${row.v}\u0000${bucket.getTime()}`;
      let entry = out.get(key);
      if (!entry) {
        entry = { segment, version: row.v, bucket, data: emptyRollup() };
        out.set(key, entry);
      }
      addRow(entry.data, row, layout);
    }
  }
  return [...out.values()];
}
