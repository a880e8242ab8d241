/** The entries of `models[].segments`, read the same way by the config check, ingest and the monitors. */

/**
 * One entry of `models[].segments`: a categorical feature (`country`, every value up to the cap)
 * or a feature with the values to monitor (`tier = gold, silver`; every other value is
 * `tier=(other)`). Null when the entry is malformed (no feature, or `=` with no values).
 */
export function parseSegmentSpec(spec: string): { feature: string; values: string[] | null } | null {
  const i = spec.indexOf("=");
  const feature = (i < 0 ? spec : spec.slice(0, i)).trim();
  if (!feature) return null;
  if (i < 0) return { feature, values: null };
  const values = spec
    .slice(i + 1)
    .split(",")
    .map((v) => v.trim());
  if (values.length === 0 || values.some((v) => v === "")) return null;
  return { feature, values };
}

/** The feature names of `models[].segments` entries (malformed entries left out). */
export const segmentFeatures = (specs: readonly string[]): string[] =>
  specs.flatMap((s) => {
    const p = parseSegmentSpec(s);
    return p ? [p.feature] : [];
  });
