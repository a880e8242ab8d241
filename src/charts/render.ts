/**
 * Draws a chart description as SVG, and as PNG through resvg (a Rust renderer shipped as a
 * prebuilt npm binary: no browser, no system libraries). Text is set in DejaVu Sans, loaded from
 * the `dejavu-fonts-ttf` package rather than the system, so a chart reads the same on every host.
 * The output depends on the description alone: the same chart always gives the same bytes.
 */
import { createRequire } from "node:module";
import {
  type BarChart,
  type ChartSpec,
  type HistogramChart,
  type LineChart,
  PALETTE,
  seriesColour,
} from "./spec.js";

/** The drawing's size in pixels; the PNG has the same size. */
export const CHART_WIDTH = 960;
export const CHART_HEIGHT = 480;

/** Where the plot area sits inside the drawing. */
export const PLOT = { left: 88, right: CHART_WIDTH - 32, top: 104, bottom: CHART_HEIGHT - 72 } as const;

const FONT = "DejaVu Sans";
const require = createRequire(import.meta.url);
const FONT_FILES = [
  require.resolve("dejavu-fonts-ttf/ttf/DejaVuSans.ttf"),
  require.resolve("dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf"),
];

/**
 * Why the addon is loaded here, with an environment variable set around it: resvg's addon links
 * its own allocator (mimalloc), and every render takes about 2 MB from it (the 960 × 480 pixmap),
 * freed only when V8 collects the render's JS objects, a dozen or more renders at a time. Whole
 * 32 MiB segments then go back to mimalloc's arena, which by default returns them to the OS only
 * 100 ms later (its purge delay, 10 ms, times `arena_purge_mult`, 10) and only on a later call
 * into it: after a burst of charts, tens of MB stayed resident until the next chart
 * (BENCHMARKS.md, Charts). `MIMALLOC_ARENA_PURGE_MULT=0` returns freed segments at once. Pages
 * freed inside segments that stay in use keep their 10 ms delay and can still stay resident after
 * a burst (about 55 MB after 30 renders collected at once); `MIMALLOC_PURGE_DELAY=0` removes that
 * too but made a render cost four times the CPU, so it is not set. mimalloc reads its options once, when the addon is loaded, so this
 * module must be the first to load `@resvg/resvg-js` in the process (no other module imports it).
 * A value the operator set is kept; ours is removed again so child processes do not inherit it.
 */
function loadResvg(): typeof import("@resvg/resvg-js") {
  const ours = process.env.MIMALLOC_ARENA_PURGE_MULT === undefined;
  if (ours) process.env.MIMALLOC_ARENA_PURGE_MULT = "0";
  try {
    return require("@resvg/resvg-js") as typeof import("@resvg/resvg-js");
  } finally {
    if (ours) delete process.env.MIMALLOC_ARENA_PURGE_MULT;
  }
}
const { Resvg } = loadResvg();

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};
function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}

/** A number as a tick or a label shows it: few digits, no float noise. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return "0";
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${(value / 1e6).toFixed(abs >= 1e7 ? 0 : 1)}M`;
  if (abs >= 1e4) return `${(value / 1e3).toFixed(abs >= 1e5 ? 0 : 1)}k`;
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return stripZeros(value.toFixed(1));
  if (abs >= 0.01) return stripZeros(value.toFixed(3));
  return value.toExponential(1);
}
function stripZeros(s: string): string {
  return s.includes(".") ? s.replace(/\.?0+$/, "") : s;
}

/** Round tick values covering [lo, hi]: steps of 1, 2 or 5 times a power of ten. */
export function niceTicks(lo: number, hi: number, target = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / target;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((m) => m * power >= raw) ?? 10) * power;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step)
    ticks.push(Math.abs(v) < step * 1e-9 ? 0 : Number(v.toPrecision(12)));
  return ticks;
}

/** The value range a chart's y axis covers, with every series, the threshold and band inside. */
function yDomain(spec: ChartSpec): [number, number] {
  const values: number[] = [];
  if (spec.kind === "line")
    for (const s of spec.series)
      for (const p of s.points)
        values.push(p.v, ...(p.lo !== undefined ? [p.lo] : []), ...(p.hi !== undefined ? [p.hi] : []));
  else if (spec.kind === "histogram") for (const s of spec.series) values.push(...s.values);
  else for (const s of spec.series) values.push(...s.values, ...(s.lo ?? []), ...(s.hi ?? []));
  if (spec.threshold) values.push(spec.threshold.value);
  if (spec.band) values.push(spec.band.lower, spec.band.upper);
  const finite = values.filter(Number.isFinite);
  let lo = Math.min(0, ...finite);
  let hi = finite.length ? Math.max(...finite) : 1;
  // A line chart whose values sit far from zero (accuracy 0.91–0.95) is drawn around them.
  if (spec.kind === "line" && finite.length && Math.min(...finite) > 0) {
    const min = Math.min(...finite);
    if (min > (hi - min) * 2) lo = min - (hi - min) * 0.5;
  }
  if (hi === lo) hi = lo + 1;
  const span = hi - lo;
  hi += span * 0.08;
  if (lo < 0) lo -= span * 0.04;
  const ticks = niceTicks(lo, hi);
  return [Math.min(lo, ticks[0] ?? lo), Math.max(hi, ticks[ticks.length - 1] ?? hi)];
}

/** The pixel row of a value on a chart's y axis (before rounding). */
export function yOf(spec: ChartSpec, value: number): number {
  const [lo, hi] = yDomain(spec);
  return PLOT.bottom - ((value - lo) / (hi - lo)) * (PLOT.bottom - PLOT.top);
}

/** The pixel row the threshold line is drawn on (it is drawn 2 px thick, rows `row - 1` and `row`). */
export function thresholdRow(spec: ChartSpec): number | undefined {
  return spec.threshold ? Math.round(yOf(spec, spec.threshold.value)) : undefined;
}

function axisTitle(axis: { label: string; unit?: string | undefined }): string {
  return axis.unit ? `${axis.label} (${axis.unit})` : axis.label;
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

const MINUTE = 60_000;
const TIME_STEPS = [1, 5, 15, 30, 60, 180, 360, 720, 1440, 2880, 10080].map((m) => m * MINUTE);

function timeTicks(t0: number, t1: number): { ticks: number[]; label: (t: number) => string } {
  const step = TIME_STEPS.find((s) => (t1 - t0) / s <= 6) ?? (TIME_STEPS[TIME_STEPS.length - 1] as number);
  const ticks: number[] = [];
  for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) ticks.push(t);
  const iso = (t: number) => new Date(t).toISOString();
  const label =
    t1 - t0 < 1440 * MINUTE
      ? (t: number) => iso(t).slice(11, 16)
      : step >= 1440 * MINUTE
        ? (t: number) => iso(t).slice(5, 10)
        : (t: number) => `${iso(t).slice(5, 10)} ${iso(t).slice(11, 16)}`;
  return { ticks, label };
}

/** The parts every chart shares: background, title, axes, grid, threshold, band and legend. */
function frame(
  spec: ChartSpec,
  legend: { name: string; colour: string; dashed?: boolean }[],
): {
  under: string[];
  over: string[];
  y: (v: number) => number;
} {
  const [lo, hi] = yDomain(spec);
  const y = (v: number) => PLOT.bottom - ((v - lo) / (hi - lo)) * (PLOT.bottom - PLOT.top);
  const under: string[] = [];
  const over: string[] = [];
  under.push(`<rect width="${CHART_WIDTH}" height="${CHART_HEIGHT}" fill="${PALETTE.background}"/>`);
  under.push(
    `<text x="24" y="36" font-size="22" font-weight="bold" fill="${PALETTE.text}">${esc(truncate(spec.title, 70))}</text>`,
  );
  if (spec.subtitle)
    under.push(
      `<text x="24" y="62" font-size="15" fill="${PALETTE.muted}">${esc(truncate(spec.subtitle, 105))}</text>`,
    );
  for (const v of niceTicks(lo, hi)) {
    const row = Math.round(y(v));
    under.push(
      `<line x1="${PLOT.left}" x2="${PLOT.right}" y1="${row + 0.5}" y2="${row + 0.5}" stroke="${PALETTE.grid}" stroke-width="1"/>`,
      `<text x="${PLOT.left - 8}" y="${row + 5}" font-size="13" text-anchor="end" fill="${PALETTE.muted}">${esc(formatNumber(v))}</text>`,
    );
  }
  under.push(
    `<text transform="translate(22 ${(PLOT.top + PLOT.bottom) / 2}) rotate(-90)" font-size="14" text-anchor="middle" fill="${PALETTE.muted}">${esc(truncate(axisTitle(spec.y), 50))}</text>`,
    `<text x="${(PLOT.left + PLOT.right) / 2}" y="${CHART_HEIGHT - 16}" font-size="14" text-anchor="middle" fill="${PALETTE.muted}">${esc(truncate(axisTitle(spec.x), 80))}</text>`,
  );
  if (spec.band) {
    const top = y(spec.band.upper);
    const bottom = y(spec.band.lower);
    under.push(
      `<rect x="${PLOT.left}" y="${top.toFixed(1)}" width="${PLOT.right - PLOT.left}" height="${Math.max(1, bottom - top).toFixed(1)}" fill="${PALETTE.band}" fill-opacity="0.12"/>`,
    );
    for (const edge of [top, bottom])
      under.push(
        `<line x1="${PLOT.left}" x2="${PLOT.right}" y1="${edge.toFixed(1)}" y2="${edge.toFixed(1)}" stroke="${PALETTE.band}" stroke-width="1" stroke-dasharray="3 3"/>`,
      );
    legend.push({ name: spec.band.label, colour: PALETTE.band, dashed: true });
  }
  if (spec.threshold) {
    const row = Math.round(y(spec.threshold.value));
    over.push(
      `<line x1="${PLOT.left}" x2="${PLOT.right}" y1="${row}" y2="${row}" stroke="${PALETTE.threshold}" stroke-width="2" stroke-dasharray="10 6" shape-rendering="crispEdges"/>`,
      `<text x="${PLOT.right - 4}" y="${row - 7}" font-size="13" text-anchor="end" fill="${PALETTE.threshold}">${esc(truncate(spec.threshold.label, 40))}</text>`,
    );
    legend.push({ name: spec.threshold.label, colour: PALETTE.threshold, dashed: true });
  }
  under.push(
    `<line x1="${PLOT.left}" x2="${PLOT.left}" y1="${PLOT.top}" y2="${PLOT.bottom}" stroke="${PALETTE.muted}" stroke-width="1"/>`,
    `<line x1="${PLOT.left}" x2="${PLOT.right}" y1="${PLOT.bottom + 0.5}" y2="${PLOT.bottom + 0.5}" stroke="${PALETTE.muted}" stroke-width="1"/>`,
  );
  let x = PLOT.left;
  for (const item of legend) {
    const name = esc(truncate(item.name, 32));
    under.push(
      item.dashed
        ? `<line x1="${x}" x2="${x + 18}" y1="${85}" y2="${85}" stroke="${item.colour}" stroke-width="2" stroke-dasharray="5 3"/>`
        : `<rect x="${x}" y="78" width="18" height="14" fill="${item.colour}"/>`,
      `<text x="${x + 24}" y="90" font-size="13" fill="${PALETTE.text}">${name}</text>`,
    );
    x += 24 + Math.min(32, item.name.length) * 7.6 + 20;
  }
  return { under, over, y };
}

function lineBody(spec: LineChart): string[] {
  const legend = spec.series.map((s, i) => ({ name: s.name, colour: seriesColour(i) }));
  const { under, over, y } = frame(spec, legend);
  const times = [
    ...spec.series.flatMap((s) => s.points.map((p) => p.t)),
    ...(spec.marks ?? []).map((m) => m.t),
  ];
  let t0 = times.length ? Math.min(...times) : 0;
  let t1 = times.length ? Math.max(...times) : 1;
  if (t1 === t0) {
    t0 -= 30 * MINUTE;
    t1 += 30 * MINUTE;
  }
  const inset = 12;
  const x = (t: number) => PLOT.left + inset + ((t - t0) / (t1 - t0)) * (PLOT.right - PLOT.left - 2 * inset);
  const { ticks, label } = timeTicks(t0, t1);
  const body: string[] = [];
  for (const t of ticks)
    body.push(
      `<text x="${x(t).toFixed(1)}" y="${PLOT.bottom + 22}" font-size="13" text-anchor="middle" fill="${PALETTE.muted}">${esc(label(t))}</text>`,
    );
  for (const m of spec.marks ?? [])
    body.push(
      `<line x1="${x(m.t).toFixed(1)}" x2="${x(m.t).toFixed(1)}" y1="${PLOT.top}" y2="${PLOT.bottom}" stroke="${PALETTE.mark}" stroke-width="2"/>`,
      `<text x="${(x(m.t) + 4).toFixed(1)}" y="${PLOT.top + 14}" font-size="13" fill="${PALETTE.mark}">${esc(truncate(m.label, 24))}</text>`,
    );
  spec.series.forEach((s, i) => {
    const colour = seriesColour(i);
    const points = [...s.points].sort((a, b) => a.t - b.t);
    for (const p of points)
      if (p.lo !== undefined && p.hi !== undefined)
        body.push(
          `<line x1="${x(p.t).toFixed(1)}" x2="${x(p.t).toFixed(1)}" y1="${y(p.lo).toFixed(1)}" y2="${y(p.hi).toFixed(1)}" stroke="${colour}" stroke-width="2" stroke-opacity="0.6"/>`,
        );
    if (points.length > 1)
      body.push(
        `<polyline fill="none" stroke="${colour}" stroke-width="3" stroke-linejoin="round" points="${points.map((p) => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(" ")}"/>`,
      );
    for (const p of points)
      body.push(`<circle cx="${x(p.t).toFixed(1)}" cy="${y(p.v).toFixed(1)}" r="4.5" fill="${colour}"/>`);
  });
  if (times.length === 0)
    body.push(
      `<text x="${(PLOT.left + PLOT.right) / 2}" y="${(PLOT.top + PLOT.bottom) / 2}" font-size="16" text-anchor="middle" fill="${PALETTE.muted}">no data in this period</text>`,
    );
  return [...under, ...body, ...over];
}

function histogramBody(spec: HistogramChart): string[] {
  const legend = spec.series.map((s, i) => ({ name: s.name, colour: seriesColour(i) }));
  const { under, over, y } = frame(spec, legend);
  const byBin = spec.scale === "bins";
  const edges = byBin ? spec.edges.map((_, i) => i) : spec.edges;
  const e0 = edges[0] ?? 0;
  const e1 = edges[edges.length - 1] ?? 1;
  const span = e1 > e0 ? e1 - e0 : 1;
  const x = (v: number) => PLOT.left + ((v - e0) / span) * (PLOT.right - PLOT.left);
  const body: string[] = [];
  if (byBin) {
    // Every k-th edge, labelled with its value, so at most 8 labels share the axis.
    const step = Math.max(1, Math.ceil((edges.length - 1) / 8));
    for (let i = 0; i < edges.length; i += step)
      body.push(
        `<text x="${x(i).toFixed(1)}" y="${PLOT.bottom + 22}" font-size="13" text-anchor="middle" fill="${PALETTE.muted}">${esc(formatNumber(spec.edges[i] as number))}</text>`,
      );
  } else
    for (const v of niceTicks(e0, e1, 6))
      if (v >= e0 && v <= e1)
        body.push(
          `<text x="${x(v).toFixed(1)}" y="${PLOT.bottom + 22}" font-size="13" text-anchor="middle" fill="${PALETTE.muted}">${esc(formatNumber(v))}</text>`,
        );
  spec.series.forEach((s, i) => {
    const colour = seriesColour(i);
    if (i === 0) {
      s.values.forEach((v, b) => {
        const left = x(edges[b] ?? e0);
        const right = x(edges[b + 1] ?? e1);
        const top = y(v);
        body.push(
          `<rect x="${left.toFixed(1)}" y="${top.toFixed(1)}" width="${Math.max(0.5, right - left).toFixed(1)}" height="${Math.max(0, PLOT.bottom - top).toFixed(1)}" fill="${colour}" fill-opacity="0.3"/>`,
          `<line x1="${left.toFixed(1)}" x2="${right.toFixed(1)}" y1="${top.toFixed(1)}" y2="${top.toFixed(1)}" stroke="${colour}" stroke-width="3"/>`,
        );
      });
      return;
    }
    const path: string[] = [];
    s.values.forEach((v, b) => {
      const left = x(edges[b] ?? e0).toFixed(1);
      const right = x(edges[b + 1] ?? e1).toFixed(1);
      const top = y(v).toFixed(1);
      path.push(`${b === 0 ? `M${left},${PLOT.bottom}` : ""} L${left},${top} L${right},${top}`);
    });
    path.push(` L${x(e1).toFixed(1)},${PLOT.bottom}`);
    body.push(
      `<path d="${path.join("")}" fill="none" stroke="${colour}" stroke-width="3" stroke-linejoin="miter"/>`,
    );
  });
  return [...under, ...body, ...over];
}

function barBody(spec: BarChart): string[] {
  const legend = spec.series.map((s, i) => ({ name: s.name, colour: seriesColour(i) }));
  const { under, over, y } = frame(spec, legend);
  const n = Math.max(1, spec.categories.length);
  const slot = (PLOT.right - PLOT.left) / n;
  const groups = Math.max(1, spec.series.length);
  const barWidth = Math.min(64, (slot * 0.8) / groups);
  const body: string[] = [];
  const zero = y(0);
  const maxChars = Math.max(4, Math.floor(slot / 8));
  spec.categories.forEach((category, c) => {
    const centre = PLOT.left + slot * (c + 0.5);
    body.push(
      `<text x="${centre.toFixed(1)}" y="${PLOT.bottom + 22}" font-size="13" text-anchor="middle" fill="${PALETTE.muted}">${esc(truncate(category, maxChars))}</text>`,
    );
    spec.series.forEach((s, i) => {
      const v = s.values[c];
      if (v === undefined || !Number.isFinite(v)) return;
      const left = centre - (barWidth * groups) / 2 + barWidth * i;
      const top = Math.min(y(v), zero);
      body.push(
        `<rect x="${left.toFixed(1)}" y="${top.toFixed(1)}" width="${(barWidth - 2).toFixed(1)}" height="${Math.max(1, Math.abs(zero - y(v))).toFixed(1)}" fill="${seriesColour(i)}"/>`,
      );
      const lo = s.lo?.[c];
      const hi = s.hi?.[c];
      if (lo !== undefined && hi !== undefined && Number.isFinite(lo) && Number.isFinite(hi)) {
        const mid = left + (barWidth - 2) / 2;
        body.push(
          `<path d="M${mid.toFixed(1)},${y(lo).toFixed(1)} V${y(hi).toFixed(1)} M${(mid - 6).toFixed(1)},${y(lo).toFixed(1)} h12 M${(mid - 6).toFixed(1)},${y(hi).toFixed(1)} h12" stroke="${PALETTE.text}" stroke-width="1.5" fill="none"/>`,
        );
      }
    });
  });
  return [...under, ...body, ...over];
}

/**
 * The chart as a standalone SVG document; its `<title>` and `aria-label` carry the alt text.
 * `className` is set on the root element when the SVG is inlined in a page.
 */
export function renderSvg(spec: ChartSpec, className?: string): string {
  const body =
    spec.kind === "line" ? lineBody(spec) : spec.kind === "histogram" ? histogramBody(spec) : barBody(spec);
  return [
    `<svg${className ? ` class="${esc(className)}"` : ""} xmlns="http://www.w3.org/2000/svg" width="${CHART_WIDTH}" height="${CHART_HEIGHT}" viewBox="0 0 ${CHART_WIDTH} ${CHART_HEIGHT}" role="img" aria-label="${esc(spec.alt)}" font-family="${FONT}, sans-serif">`,
    `<title>${esc(spec.alt)}</title>`,
    ...body,
    "</svg>",
    "",
  ].join("\n");
}

/** The chart as PNG bytes, `CHART_WIDTH` × `CHART_HEIGHT`. */
export function renderPng(spec: ChartSpec): Buffer {
  const resvg = new Resvg(renderSvg(spec), {
    font: { fontFiles: FONT_FILES, loadSystemFonts: false, defaultFontFamily: FONT },
    fitTo: { mode: "original" },
  });
  return resvg.render().asPng();
}
