/**
 * Response metrics over a period, read from the incident log: how long each response stage took
 * (counts, p50, p90, mean), which fingerprints fired most, and which runbooks fixed things. The
 * same numbers back `/mlops report`, the weekly digest and the incident log page.
 */
import { sql } from "drizzle-orm";
import { resultRows } from "../db/client.js";
import type { Db } from "../db/index.js";
import { formatDuration } from "../shared/duration.js";

/** The response stages, in order: detect runs from the first bad data to the first firing, the rest from the first firing. */
export const STAGES = ["detect", "acknowledge", "mitigate", "resolve"] as const;
/** One of `STAGES`. */
export type Stage = (typeof STAGES)[number];

/**
 * A runbook run "fixed" its incident when it succeeded, its verification did not fail, and the
 * incident was mitigated or resolved within this long after the run finished.
 */
export const FIX_WINDOW_MS = 30 * 60_000;

/** How each stage is named in reports. */
export const STAGE_NAMES: Record<Stage, string> = {
  detect: "Time to detect",
  acknowledge: "Time to acknowledge",
  mitigate: "Time to mitigate",
  resolve: "Time to resolve",
};

/** What "fixed" means, in words, beside the runbook figures. */
export const FIXED_MEANS = `fixed: the run succeeded, its verification did not fail, and the incident was mitigated or resolved within ${formatDuration(FIX_WINDOW_MS)} after it`;

/** A duration statistic over incidents, in milliseconds. */
export interface DurationStats {
  count: number;
  medianMs: number | null;
  p90Ms: number | null;
  meanMs: number | null;
}

/** A fingerprint and how often it fired in the period. */
export interface NoisyFingerprint {
  fingerprint: string;
  monitor: string;
  subject: string;
  firings: number;
}

/** How a runbook's runs on incidents went in the period. */
export interface RunbookOutcome {
  runbook: string;
  runs: number;
  /** Runs that fixed their incident (see FIX_WINDOW_MS). */
  fixed: number;
}

/** Which incidents a response table covers: opened in [from, to), of one model or monitor if given. */
export interface ResponseFilter {
  model?: string | undefined;
  monitor?: string | undefined;
  from: Date;
  to: Date;
}

/** Response metrics of a period. */
export interface ResponseMetrics {
  stages: Record<Stage, DurationStats>;
  noisiest: NoisyFingerprint[];
  runbooks: RunbookOutcome[];
}

/**
 * The value at quantile `q` (0..1) of numbers, interpolating linearly between the two nearest
 * ranks (so q = 0.5 is the median); null for none.
 */
export function quantile(values: readonly number[], q: number): number | null {
  if (!values.length) return null;
  const s = [...values].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return (s[lo] as number) + ((s[hi] as number) - (s[lo] as number)) * (pos - lo);
}

/** The median of numbers (the mean of the middle two for an even count), or null for none. */
export function median(values: readonly number[]): number | null {
  return quantile(values, 0.5);
}

/** Count, p50, p90 and mean of durations. */
export function durationStats(values: readonly number[]): DurationStats {
  return {
    count: values.length,
    medianMs: median(values),
    p90Ms: quantile(values, 0.9),
    meanMs: values.length ? values.reduce((a, b) => a + b, 0) / values.length : null,
  };
}

const iso = (d: Date) => d.toISOString();
const time = (v: unknown) => (v instanceof Date ? v : new Date(String(v)));
const ms = (v: unknown) => (v === null || v === undefined ? null : time(v).getTime());

/** Whether a finished run fixed its incident: it worked, and the incident settled soon after. */
export function runFixed(run: {
  status: string;
  verify: string | null;
  finishedAt: number;
  mitigatedAt: number | null;
  resolvedAt: number | null;
}): boolean {
  if (run.status !== "succeeded" || run.verify === "failed") return false;
  const settled = [run.mitigatedAt, run.resolvedAt].filter(
    (t): t is number => t !== null && t >= run.finishedAt,
  );
  return settled.length > 0 && Math.min(...settled) - run.finishedAt <= FIX_WINDOW_MS;
}

/** Reads the response metrics of incidents opened in the period (runbooks: runs finished in it). */
export async function responseMetrics(
  db: Db,
  f: ResponseFilter,
  topFingerprints: number,
): Promise<ResponseMetrics> {
  const model = f.model ? sql`and i.model = ${f.model}` : sql``;
  const monitor = f.monitor ? sql`and i.monitor = ${f.monitor}` : sql``;
  const opened = resultRows<{
    opened_at: unknown;
    acknowledged_at: unknown;
    mitigated_at: unknown;
    resolved_at: unknown;
    data_from: string | null;
  }>(
    await db.execute(sql`select i.opened_at, i.acknowledged_at, i.mitigated_at, i.resolved_at,
        (select e.detail ->> 'dataFrom' from incident_events e
          where e.incident_id = i.id and e.kind = 'opened' order by e.id limit 1) as data_from
      from incidents i
      where i.opened_at >= ${iso(f.from)}::timestamptz and i.opened_at < ${iso(f.to)}::timestamptz ${model} ${monitor}`),
  );
  const spans: Record<Stage, number[]> = { detect: [], acknowledge: [], mitigate: [], resolve: [] };
  for (const i of opened) {
    const o = time(i.opened_at).getTime();
    const from = i.data_from ? Date.parse(i.data_from) : Number.NaN;
    if (!Number.isNaN(from)) spans.detect.push(Math.max(0, o - from));
    for (const [stage, at] of [
      ["acknowledge", i.acknowledged_at],
      ["mitigate", i.mitigated_at],
      ["resolve", i.resolved_at],
    ] as const)
      if (at !== null) spans[stage].push((ms(at) as number) - o);
  }

  const noisy = resultRows<{ fingerprint: string; monitor: string; subject: string; n: number | string }>(
    await db.execute(sql`select i.fingerprint, i.monitor, i.subject, count(*) as n
      from incident_events e join incidents i on i.id = e.incident_id
      where e.kind in ('opened', 'alert_fired') ${model} ${monitor}
        and e.at >= ${iso(f.from)}::timestamptz and e.at < ${iso(f.to)}::timestamptz
      group by i.fingerprint, i.monitor, i.subject
      order by count(*) desc, i.fingerprint
      limit ${topFingerprints}`),
  );

  const runs = resultRows<{
    runbook: string | null;
    status: string | null;
    verify: string | null;
    at: unknown;
    mitigated_at: unknown;
    resolved_at: unknown;
  }>(
    await db.execute(sql`select e.detail ->> 'name' as runbook, e.detail ->> 'status' as status,
        e.detail ->> 'verify' as verify, e.at, i.mitigated_at, i.resolved_at
      from incident_events e join incidents i on i.id = e.incident_id
      where e.kind = 'runbook_finished' ${model} ${monitor}
        and e.at >= ${iso(f.from)}::timestamptz and e.at < ${iso(f.to)}::timestamptz`),
  );
  const byRunbook = new Map<string, RunbookOutcome>();
  for (const r of runs) {
    const name = r.runbook ?? "?";
    const entry = byRunbook.get(name) ?? { runbook: name, runs: 0, fixed: 0 };
    entry.runs++;
    if (
      runFixed({
        status: r.status ?? "",
        verify: r.verify,
        finishedAt: time(r.at).getTime(),
        mitigatedAt: ms(r.mitigated_at),
        resolvedAt: ms(r.resolved_at),
      })
    )
      entry.fixed++;
    byRunbook.set(name, entry);
  }

  return {
    stages: {
      detect: durationStats(spans.detect),
      acknowledge: durationStats(spans.acknowledge),
      mitigate: durationStats(spans.mitigate),
      resolve: durationStats(spans.resolve),
    },
    noisiest: noisy.map((r) => ({
      fingerprint: r.fingerprint,
      monitor: r.monitor,
      subject: r.subject,
      firings: Number(r.n),
    })),
    runbooks: [...byRunbook.values()].sort(
      (a, b) => b.fixed - a.fixed || b.runs - a.runs || (a.runbook < b.runbook ? -1 : 1),
    ),
  };
}
