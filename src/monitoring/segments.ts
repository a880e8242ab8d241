/**
 * Per-segment monitor runs: the same monitor over each segment's rollups (`country=DE`), its
 * findings named after their segment (`amount @ country=DE`) so they join the model's incident
 * for that monitor as members, and segments too small for the monitor's minimum sample skipped
 * with the monitor's own reason.
 */
import type { ChartSpec } from "../charts/spec.js";
import type { RegisteredModel } from "../models/index.js";
import { parseSegment, SEGMENT_OTHER } from "../rollups/segments.js";
import { type Finding, type MonitorKind, type MonitorOutcome, statusOf } from "./model.js";
import type { MonitorContext } from "./monitors/context.js";
import type { SegmentFilter, WindowRepository, WindowSource } from "./window-repository.js";

/** Segments evaluated at once. */
const SEGMENT_CONCURRENCY = 4;

/** Between a finding's subject and its segment: `amount @ country=DE`. */
export const SEGMENT_MARK = " @ ";

/** The subject of a finding in a segment. */
export const segmentSubject = (subject: string, segment: string): string =>
  `${subject}${SEGMENT_MARK}${segment}`;

/** The segment a subject names, or null for a global finding. */
export function subjectSegment(subject: string): string | null {
  const i = subject.lastIndexOf(SEGMENT_MARK);
  return i < 0 ? null : subject.slice(i + SEGMENT_MARK.length);
}

/**
 * The filter of segment `key` of a model, or null when it names no categorical feature. `known`
 * are the model's segments in the window: `(other)` is every set value not among them.
 */
export function segmentFilter(
  model: RegisteredModel,
  key: string,
  known: readonly string[],
): SegmentFilter | null {
  const p = parseSegment(key);
  if (!p) return null;
  const f = model.features.find((x) => x.name === p.feature && x.type === "categorical");
  if (!f) return null;
  const base = { key: `${p.feature}=${p.value}`, slot: f.slot, value: p.value };
  if (p.value !== SEGMENT_OTHER) return base;
  const kept = known.flatMap((k) => {
    const q = parseSegment(k);
    return q && q.feature === p.feature && q.value !== SEGMENT_OTHER ? [q.value] : [];
  });
  return { ...base, kept };
}

/** The window reductions of one segment: every window source read is narrowed to it. */
export function segmentWindows(windows: WindowRepository, filter: SegmentFilter): WindowRepository {
  const narrowed: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(windows) as [string, (...a: unknown[]) => unknown][]) {
    narrowed[name] =
      name === "hasAny"
        ? fn
        : (src: WindowSource, ...rest: unknown[]) =>
            fn(src.kind === "window" ? { ...src, segment: filter } : src, ...rest);
  }
  return narrowed as unknown as WindowRepository;
}

/** One segment's result, as the run's `metrics.segments` keeps it. */
export interface SegmentResult {
  status: MonitorOutcome["status"];
  rows: number;
  findings: number;
  note?: string;
}

/** A monitor's outcome on one segment, its findings renamed to the segment. */
export async function runOnSegment(
  ctx: MonitorContext,
  filter: SegmentFilter,
  evaluate: (ctx: MonitorContext) => Promise<MonitorOutcome>,
  family = 1,
): Promise<MonitorOutcome> {
  const mark = `${SEGMENT_MARK}${filter.key}`;
  const previous = ctx.previous && {
    ...ctx.previous,
    findings: ctx.previous.findings
      .filter((f) => f.subject.endsWith(mark))
      .map((f) => ({ ...f, subject: f.subject.slice(0, -mark.length) })),
  };
  const feature = filter.key.slice(0, filter.key.indexOf("="));
  const out = await evaluate({
    ...ctx,
    windows: segmentWindows(ctx.windows, filter),
    previous,
    segment: { key: filter.key, feature, family },
  });
  const evidence: Record<string, ChartSpec[]> = {};
  for (const [subject, charts] of Object.entries(out.evidence ?? {}))
    evidence[segmentSubject(subject, filter.key)] = charts;
  return {
    ...out,
    findings: out.findings.map(
      (f): Finding => ({
        ...f,
        subject: segmentSubject(f.subject, filter.key),
        title: `${f.title} (segment ${filter.key})`,
        metrics: { ...f.metrics, segment: filter.key },
      }),
    ),
    evidence,
  };
}

/**
 * Runs `evaluate` on every segment of the model with data in the global run's window and folds
 * the results into the global outcome: findings added, `metrics.segments` per segment, and a
 * note naming the segments skipped (too few rows for the monitor, or no reference yet).
 */
export async function withSegments(
  ctx: MonitorContext,
  kind: MonitorKind,
  global: MonitorOutcome,
  segments: readonly string[],
  evaluate: (ctx: MonitorContext) => Promise<MonitorOutcome>,
): Promise<MonitorOutcome> {
  if (kind === "probe" || segments.length === 0) return global;
  const results: Record<string, SegmentResult> = {};
  const findings = [...global.findings];
  const evidence = { ...(global.evidence ?? {}) };
  const skippedNotes: string[] = [];
  // A few segments at a time: each is a handful of reads, and a pool has more than one connection.
  const outcomes = new Map<string, MonitorOutcome>();
  const filters = segments.flatMap((key) => {
    const filter = segmentFilter(ctx.model, key, segments);
    return filter ? [filter] : [];
  });
  for (let i = 0; i < filters.length; i += SEGMENT_CONCURRENCY)
    await Promise.all(
      filters
        .slice(i, i + SEGMENT_CONCURRENCY)
        .map(async (f) => outcomes.set(f.key, await runOnSegment(ctx, f, evaluate, segments.length))),
    );
  for (const { key } of filters) {
    const out = outcomes.get(key) as MonitorOutcome;
    results[key] = {
      status: out.status,
      rows: out.rows,
      findings: out.findings.length,
      ...(out.note ? { note: out.note } : {}),
    };
    if (out.status === "skipped" || out.status === "error")
      skippedNotes.push(`${key}: ${out.note ?? out.status}`);
    findings.push(...out.findings);
    Object.assign(evidence, out.evidence ?? {});
  }
  const decisive = global.status === "ok" || global.status === "alert";
  const note = skippedNotes.length ? `segments skipped — ${skippedNotes.join("; ")}` : undefined;
  return {
    ...global,
    status: decisive || findings.length ? statusOf(findings) : global.status,
    findings,
    evidence,
    metrics: { ...global.metrics, segments: results },
    ...(global.note || note ? { note: [global.note, note].filter(Boolean).join(" · ") } : {}),
  };
}
