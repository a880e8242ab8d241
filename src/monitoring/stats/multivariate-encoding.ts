/**
 * How a prediction's features become one numeric vector for the PCA: numeric features as they
 * are, categorical ones by frequency encoding (the value's share in the reference; unseen values
 * 0), as NannyML does. Frequency encoding keeps one column per feature however many categories
 * there are, so the PCA's size and the ingest cost do not grow with cardinality. A missing value
 * takes the reference mean of its column, so it adds no error of its own (missing shares are the
 * data-quality monitor's concern).
 */

/** The encoding of one column: a numeric feature, or a categorical one with its frequencies. */
export type ColumnEncoding =
  | { name: string; kind: "numeric"; fill: number }
  | { name: string; kind: "categorical"; fill: number; frequencies: Record<string, number> };

/** The frequency table of categorical reference values (missing values left out). */
export function frequencyTable(values: readonly (string | null)[]): Record<string, number> {
  const counts: Record<string, number> = {};
  let n = 0;
  for (const v of values) {
    if (v === null) continue;
    counts[v] = (counts[v] ?? 0) + 1;
    n++;
  }
  for (const k in counts) counts[k] = (counts[k] as number) / n;
  return counts;
}

/** Encodes one row's values (numbers for numeric columns, strings for categorical ones). */
export function encodeRow(
  columns: readonly ColumnEncoding[],
  values: readonly (number | string | null)[],
): number[] {
  return columns.map((c, j) => {
    const v = values[j];
    if (v === null || v === undefined) return c.fill;
    if (c.kind === "numeric") return typeof v === "number" && Number.isFinite(v) ? v : c.fill;
    return c.frequencies[String(v)] ?? 0;
  });
}
