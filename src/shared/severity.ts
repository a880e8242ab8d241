/**
 * Severity levels and the monitor rules that set them. Every finding a monitor makes names its rule;
 * `alerting.severity` (and a model's `severity`) maps each rule to a level, with the defaults below.
 * `info` findings are posted to the model's feed and never open an incident.
 */

/** The levels, most severe first. */
export const SEVERITIES = ["critical", "warning", "info"] as const;
/** A severity level. */
export type Severity = (typeof SEVERITIES)[number];

/** Each monitor rule with its default level and what it covers (the config reference shows it). */
export const SEVERITY_RULES = {
  probe_down: {
    level: "critical",
    what: "the service probe: /health not 2xx, unreachable, or a golden input answered wrongly",
  },
  probe_slow: { level: "warning", what: "the service probe: the slowest call over max_latency_ms" },
  confidence_collapse: {
    level: "critical",
    what: "scheduled confidence: the low-confidence share above twice max_low_share",
  },
  confidence_low: {
    level: "warning",
    what: "scheduled confidence: the low-confidence share above max_low_share",
  },
  confidence_burst: { level: "warning", what: "real-time confidence: a burst of low-confidence predictions" },
  drift_dataset: {
    level: "warning",
    what: "drift: the share of drifted features reached dataset_drift_share",
  },
  drift_feature: {
    level: "warning",
    what: "drift: a feature drifted together with others, or in a run with dataset drift",
  },
  drift_feature_low_share: {
    level: "info",
    what: "drift: a single feature drifted alone while the share of drifted features stayed under dataset_drift_share",
  },
  drift_multivariate: {
    level: "warning",
    what: "drift: the PCA reconstruction error or an embedding's centroid distance or projection left its learned band, or a domain classifier told an embedding's recent vectors from the reference's",
  },
  quality_volume: {
    level: "warning",
    what: "data quality: fewer predictions than expected (none at all included)",
  },
  quality_schema: {
    level: "warning",
    what: "data quality: a new feature, a changed type, or a configured feature gone from every prediction",
  },
  quality_missing: {
    level: "warning",
    what: "data quality: a feature missing more often than in the reference",
  },
  quality_range: { level: "warning", what: "data quality: values outside the reference range" },
  quality_unseen: { level: "warning", what: "data quality: categories the reference never saw" },
  performance_drop: {
    level: "critical",
    what: "performance: the realised or estimated (CBPE) metric under its band (a regression error above it)",
  },
  deadman: { level: "warning", what: "dead-man's switch: a monitor that stopped running, or no predictions" },
} as const satisfies Record<string, { level: Severity; what: string }>;

/** A monitor rule whose finding's severity the config sets. */
export type SeverityRule = keyof typeof SEVERITY_RULES;

/** The rules, in the order above. */
export const SEVERITY_RULE_NAMES = Object.keys(SEVERITY_RULES) as SeverityRule[];

/** The default level of every rule. */
export function defaultSeverities(): Record<SeverityRule, Severity> {
  return Object.fromEntries(SEVERITY_RULE_NAMES.map((r) => [r, SEVERITY_RULES[r].level])) as Record<
    SeverityRule,
    Severity
  >;
}

/** Ranks for sorting: critical 0, warning 1, info 2. */
export const SEVERITY_RANK: Record<Severity, number> = { critical: 0, warning: 1, info: 2 };
