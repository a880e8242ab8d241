/** Who is on call: layers, then overrides, at an instant or as shifts over a span. */
import type { OnCallAt, Override, Schedule, Shift } from "./model.js";

/** The overrides that still count for a schedule: its own, not undone, not empty. */
function live(schedule: Schedule, overrides: readonly Override[]): Override[] {
  return overrides.filter(
    (o) => o.schedule === schedule.name && !o.undoneAt && o.to.getTime() > o.from.getTime(),
  );
}

/**
 * Who is on call in `schedule` at `instant`, or null when nobody is. An override covering the
 * instant wins (the last one given, when several do); otherwise the last layer with someone on
 * call then, as PagerDuty layers work. Undone overrides are ignored.
 */
export function onCallAt(
  schedule: Schedule,
  instant: Date,
  overrides: readonly Override[] = [],
): OnCallAt | null {
  const ms = instant.getTime();
  const covering = live(schedule, overrides).filter((o) => o.from.getTime() <= ms && ms < o.to.getTime());
  const override = covering[covering.length - 1];
  if (override)
    return { user: override.user, label: override.user, source: { kind: "override", id: override.id } };
  for (let i = schedule.layers.length - 1; i >= 0; i--) {
    const layer = schedule.layers[i];
    const person = layer?.at(ms);
    if (layer && person) return { ...person, source: { kind: "layer", index: i, name: layer.name } };
  }
  return null;
}

/**
 * The shifts of `schedule` in [from, to): one entry per stretch with the same person from the same
 * source, cut at `from` and `to`; stretches with nobody on call are left out. Computed from
 * `onCallAt` at every instant where a layer or an override may change, so both always agree.
 */
export function shiftsBetween(
  schedule: Schedule,
  from: Date,
  to: Date,
  overrides: readonly Override[] = [],
): Shift[] {
  const start = from.getTime();
  const end = to.getTime();
  if (end <= start) return [];
  const edges = new Set<number>([start, end]);
  for (const layer of schedule.layers) for (const t of layer.edges(start, end)) edges.add(t);
  for (const o of live(schedule, overrides))
    for (const t of [o.from.getTime(), o.to.getTime()]) if (t > start && t < end) edges.add(t);
  const points = [...edges].sort((a, b) => a - b);
  const out: Shift[] = [];
  for (let i = 0; i < points.length - 1; i++) {
    const a = points[i] as number;
    const b = points[i + 1] as number;
    const who = onCallAt(schedule, new Date(a), overrides);
    const prev = out[out.length - 1];
    if (!who) continue;
    if (
      prev &&
      prev.end.getTime() === a &&
      prev.user === who.user &&
      prev.label === who.label &&
      sameSource(prev, who)
    )
      prev.end = new Date(b);
    else out.push({ ...who, start: new Date(a), end: new Date(b) });
  }
  return out;
}

function sameSource(a: OnCallAt, b: OnCallAt): boolean {
  const x = a.source;
  const y = b.source;
  if (x.kind === "override") return y.kind === "override" && x.id === y.id;
  return y.kind === "layer" && x.index === y.index;
}
