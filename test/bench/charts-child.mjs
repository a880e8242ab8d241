// Renders charts in a fresh process (the compiled renderer, as the bot runs it) and prints one JSON
// line: each render's time, and RSS before and after `count` renders (after a full GC each time).

import { driftDistributionChart, historyChart } from "../../dist/charts/monitor-charts.js";
import { renderPng } from "../../dist/charts/render.js";
import { canaryChart } from "../../dist/charts/retraining-charts.js";

const count = Number(process.argv[2] ?? 1000);
const T0 = Date.UTC(2026, 11, 1);
const HOUR = 3_600_000;
const runs = Array.from({ length: 48 }, (_, i) => ({
  startedAt: new Date(T0 + i * HOUR),
  status: "ok",
  metrics: {
    columns: { amount: { value: i < 40 ? 0.02 + (i % 7) * 0.004 : 0.3 + i * 0.01, threshold: 0.1 } },
  },
}));
const edges = Array.from({ length: 49 }, (_, i) => i * 10);
const charts = [
  driftDistributionChart({
    feature: "amount",
    method: "wasserstein",
    value: 0.97,
    threshold: 0.1,
    isTest: false,
    distribution: {
      kind: "numeric",
      edges,
      reference: Array.from({ length: 50 }, (_, i) => Math.round(1000 * Math.exp(-((i - 20) ** 2) / 60))),
      current: Array.from({ length: 50 }, (_, i) => Math.round(1000 * Math.exp(-((i - 30) ** 2) / 60))),
      min: -5,
      max: 500,
    },
  }),
  historyChart("drift", "amount", { method: "wasserstein" }, runs),
  driftDistributionChart({
    feature: "country",
    method: "chi2",
    value: 1e-12,
    threshold: 0.05,
    isTest: true,
    distribution: {
      kind: "categorical",
      reference: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`c${i}`, 40 - i])),
      current: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`c${i}`, i === 39 ? 300 : 40 - i])),
    },
  }),
  canaryChart({
    model: "fraud-detector",
    champion: {
      version: "v3",
      n: 5000,
      confidence: { n: 5000, mean: 0.91, variance: 0.01 },
      lowConfidence: 400,
      labelled: 900,
      errors: 60,
      absError: null,
    },
    challenger: {
      version: "v4",
      n: 1200,
      confidence: { n: 1200, mean: 0.93, variance: 0.01 },
      lowConfidence: 70,
      labelled: 200,
      errors: 10,
      absError: null,
    },
    summary: "No significant difference yet.",
  }),
];
// Native memory of a render is released by its finalizer, which Node runs from the event loop
// after a GC: the bot renders between awaits, so the loop yields after each render as it does.
const tick = () => new Promise((resolve) => setImmediate(resolve));
const rss = async () => {
  for (let i = 0; i < 10; i++) {
    globalThis.gc?.();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return process.memoryUsage().rss / 1024 / 1024;
};
for (let i = 0; i < 40; i++) {
  renderPng(charts[i % charts.length]);
  await tick();
}
const before = await rss();
const times = [];
let peak = before;
let bytes = 0;
for (let i = 0; i < count; i++) {
  const t = performance.now();
  bytes += renderPng(charts[i % charts.length]).length;
  times.push(performance.now() - t);
  await tick();
  if (i % 25 === 0) peak = Math.max(peak, process.memoryUsage().rss / 1024 / 1024);
}
const after = await rss();
// Then twice as many again: memory that keeps growing is a leak, a level that holds is the
// allocator's and the renderer's working set.
for (let i = 0; i < 2 * count; i++) {
  renderPng(charts[i % charts.length]);
  await tick();
}
const afterMore = await rss();
process.stdout.write(
  `${JSON.stringify({ count, times, before, after, afterMore, peak, meanBytes: bytes / count })}\n`,
);
