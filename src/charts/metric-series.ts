/**
 * Which number of a monitor run to chart for an incident: the metric that fired, read from each
 * stored run's metrics by monitor and subject (`drift` + `amount` → the amount column's value).
 */

/** A run as the chart needs it. */
export interface RunPoint {
  startedAt: Date;
  status: string;
  metrics: Record<string, unknown>;
}

/** The chartable series of an incident's metric. */
export interface MetricSeries {
  /** What the numbers are, in words. */
  label: string;
  points: { at: Date; value: number }[];
  /** The line the rule draws, when the runs or the alert name one. */
  threshold: number | null;
}

function num(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

function obj(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

/** How to read one run for a monitor and subject: the value and the run's own threshold. */
function reader(
  monitor: string,
  subject: string,
  alertMetrics: Record<string, unknown>,
): {
  label: string;
  read: (m: Record<string, unknown>) => { value: number | null; threshold: number | null };
} {
  const fixed = (key: string) => num(alertMetrics[key]);
  switch (monitor) {
    case "drift":
      if (subject === "dataset")
        return {
          label: "share of drifted features",
          read: (m) => ({ value: num(m.drift_share), threshold: fixed("threshold") }),
        };
      return {
        label: `${String(alertMetrics.method ?? "drift")} of ${subject}`,
        read: (m) => {
          const column = obj(obj(m.columns)[subject]);
          return { value: num(column.value), threshold: num(column.threshold) };
        },
      };
    case "confidence":
      return {
        label: "share of predictions under the confidence threshold",
        read: (m) => ({ value: num(m.low_share), threshold: fixed("max_low_share") }),
      };
    case "performance":
      return {
        label: String(alertMetrics.metric ?? "performance"),
        read: (m) => ({ value: num(m.value), threshold: num(m.lower) }),
      };
    case "probe":
      return {
        label: "slowest call (ms)",
        read: (m) => ({ value: num(m.latency_ms), threshold: fixed("max_latency_ms") }),
      };
    case "data_quality": {
      const [kind, feature] = subject.includes(":") ? subject.split(":", 2) : ["", subject];
      const key = kind === "range" ? "out_of_range" : kind === "unseen" ? "unseen" : "missing_share";
      if (kind === "volume" || subject === "volume")
        return { label: "rows in the window", read: (m) => ({ value: num(m.rows), threshold: null }) };
      return {
        label: `${key.replace(/_/g, " ")} of ${feature}`,
        read: (m) => ({
          value: num(obj(obj(m.features)[feature ?? ""])[key]),
          threshold: kind === "missing" ? fixed("limit") : null,
        }),
      };
    }
    default: {
      const key = Object.keys(alertMetrics).find((k) => num(alertMetrics[k]) !== null) ?? "value";
      return { label: key.replace(/_/g, " "), read: (m) => ({ value: num(m[key]), threshold: null }) };
    }
  }
}

/** The series of the metric that fired, over the given runs (skipped and failed runs carry no number). */
export function metricSeries(
  monitor: string,
  subject: string,
  alertMetrics: Record<string, unknown>,
  runs: readonly RunPoint[],
): MetricSeries {
  const { label, read } = reader(monitor, subject, alertMetrics);
  const points: MetricSeries["points"] = [];
  let threshold: number | null = null;
  for (const run of runs) {
    if (run.status !== "ok" && run.status !== "alert") continue;
    const { value, threshold: t } = read(run.metrics);
    if (value === null) continue;
    points.push({ at: run.startedAt, value });
    if (t !== null) threshold = t;
  }
  if (threshold === null) {
    const fromAlert = num(alertMetrics.threshold);
    if (fromAlert !== null) threshold = fromAlert;
  }
  return { label, points, threshold };
}
