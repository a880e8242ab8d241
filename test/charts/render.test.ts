import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import { driftDistributionChart, historyChart } from "../../src/charts/monitor-charts.js";
import {
  CHART_HEIGHT,
  CHART_WIDTH,
  PLOT,
  renderPng,
  renderSvg,
  thresholdRow,
} from "../../src/charts/render.js";
import { type ChartSpec, PALETTE, seriesColour } from "../../src/charts/spec.js";

const T0 = Date.UTC(2026, 11, 3, 8);
const HOUR = 3_600_000;

/** One chart of each kind, from fixed data. */
const CHARTS: Record<string, ChartSpec> = {
  line: {
    kind: "line",
    title: "Drift of amount over recent runs",
    subtitle: "Drift at or above 0.1",
    alt: "Drift score of amount over 12 runs, from 0.02 to 1.05, threshold 0.1.",
    x: { label: "monitor run", unit: "UTC" },
    y: { label: "wasserstein of amount" },
    threshold: { value: 0.1, label: "threshold 0.1" },
    series: [
      {
        name: "amount",
        points: Array.from({ length: 12 }, (_, i) => ({
          t: T0 + i * HOUR,
          v: i < 9 ? 0.02 + i * 0.005 : 0.5 + i * 0.05,
        })),
      },
    ],
  },
  band: {
    kind: "line",
    title: "accuracy over recent runs",
    alt: "accuracy over recent runs, estimated by CBPE next to realised.",
    x: { label: "monitor run", unit: "UTC" },
    y: { label: "accuracy" },
    band: { lower: 0.88, upper: 0.96, label: "learned band" },
    series: [
      {
        name: "realised accuracy",
        points: Array.from({ length: 6 }, (_, i) => ({ t: T0 + i * 2 * HOUR, v: 0.925 })),
      },
      {
        name: "estimated accuracy (CBPE)",
        points: Array.from({ length: 12 }, (_, i) => ({ t: T0 + i * HOUR, v: i > 8 ? 0.8 : 0.91 })),
      },
    ],
  },
  histogram: driftDistributionChart({
    feature: "amount",
    method: "wasserstein",
    value: 0.978207,
    threshold: 0.1,
    isTest: false,
    distribution: {
      kind: "numeric",
      edges: [50, 100, 150, 200, 250, 300, 350, 400],
      reference: [50, 100, 200, 250, 150, 100, 80, 40, 30],
      current: [10, 20, 40, 80, 100, 150, 250, 200, 150],
      min: 0,
      max: 450,
    },
  }),
  bars: {
    kind: "bars",
    title: "Champion v3 against challenger v4",
    alt: "Champion against challenger on four metrics.",
    x: { label: "metric" },
    y: { label: "value" },
    threshold: { value: 0.9, label: "minimum 0.9" },
    categories: ["accuracy", "f1", "roc_auc", "precision"],
    series: [
      {
        name: "champion v3",
        values: [0.91, 0.85, 0.93, 0.88],
        lo: [0.89, 0.83, 0.92, 0.86],
        hi: [0.93, 0.87, 0.94, 0.9],
      },
      { name: "challenger v4", values: [0.93, 0.88, 0.95, 0.9] },
    ],
  },
};

function decode(spec: ChartSpec): PNG {
  return PNG.sync.read(renderPng(spec));
}

function rgb(hex: string): [number, number, number] {
  return [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];
}

/** How many pixels of the rectangle have exactly this colour. */
function count(png: PNG, hex: string, box = { x0: 0, x1: png.width, y0: 0, y1: png.height }): number {
  const [r, g, b] = rgb(hex);
  let n = 0;
  for (let y = box.y0; y < box.y1; y++)
    for (let x = box.x0; x < box.x1; x++) {
      const i = (y * png.width + x) * 4;
      if (png.data[i] === r && png.data[i + 1] === g && png.data[i + 2] === b) n++;
    }
  return n;
}

describe("the chart renderer", () => {
  for (const [name, spec] of Object.entries(CHARTS)) {
    it(`draws the ${name} chart as a PNG of the stated size, not blank, with every series' colour`, () => {
      const png = decode(spec);
      expect([png.width, png.height]).toEqual([CHART_WIDTH, CHART_HEIGHT]);
      const white = count(png, PALETTE.background);
      expect(white).toBeLessThan(png.width * png.height * 0.97);
      expect(white).toBeGreaterThan(png.width * png.height * 0.3);
      const plot = { x0: PLOT.left + 1, x1: PLOT.right, y0: PLOT.top, y1: PLOT.bottom };
      spec.series.forEach((_, i) => {
        expect(count(png, seriesColour(i), plot), `${name}: series ${i} in the plot`).toBeGreaterThan(40);
      });
      // Colours that belong to no series do not show up in the plot.
      expect(count(png, seriesColour(spec.series.length), plot)).toBe(0);
    });

    it(`keeps the ${name} chart's SVG as reviewed`, async () => {
      await expect(renderSvg(spec)).toMatchFileSnapshot(`__snapshots__/${name}.svg`);
    });
  }

  for (const name of ["line", "bars"]) {
    it(`draws the ${name} chart's threshold line at its value's height`, () => {
      const spec = CHARTS[name] as ChartSpec;
      const png = decode(spec);
      const row = thresholdRow(spec) as number;
      expect(row).toBeGreaterThan(PLOT.top);
      expect(row).toBeLessThan(PLOT.bottom);
      const width = PLOT.right - PLOT.left;
      const redAt = (y: number) =>
        count(png, PALETTE.threshold, { x0: PLOT.left, x1: PLOT.right, y0: y, y1: y + 1 }) / width;
      // Dashes of 10 on 6 off: about 60 % of the line's two rows are red; rows away from it are not.
      expect(redAt(row - 1)).toBeGreaterThan(0.4);
      expect(redAt(row)).toBeGreaterThan(0.4);
      expect(redAt(row - 12)).toBeLessThan(0.05);
      expect(redAt(row + 12)).toBeLessThan(0.05);
      // The value's height: 0.1 on the line chart sits low, 0.9 on the bar chart high.
      const share = (PLOT.bottom - row) / (PLOT.bottom - PLOT.top);
      if (name === "line") expect(share).toBeLessThan(0.2);
      else expect(share).toBeGreaterThan(0.75);
    });
  }

  it("gives the same bytes for the same chart, and escapes every text", () => {
    expect(renderPng(CHARTS.line as ChartSpec).equals(renderPng(CHARTS.line as ChartSpec))).toBe(true);
    const svg = renderSvg({
      ...(CHARTS.line as ChartSpec),
      title: `<script>alert("x")</script>`,
      alt: "a & b",
    });
    expect(svg).not.toContain("<script>");
    expect(svg).toContain("&lt;script&gt;");
    expect(svg).toContain('aria-label="a &amp; b"');
    expect(svg).toContain("<title>a &amp; b</title>");
  });

  it("draws a chart with no points as an empty plot that says so", () => {
    const svg = renderSvg({
      ...(CHARTS.line as ChartSpec),
      series: [{ name: "amount", points: [] }],
    } as ChartSpec);
    expect(svg).toContain("no data in this period");
    expect(decode({ ...(CHARTS.line as ChartSpec), series: [] } as ChartSpec).width).toBe(CHART_WIDTH);
  });
});

describe("the monitor charts", () => {
  it("overlays a numeric feature's reference and current shares on the reference's bins, naming the score", () => {
    const chart = CHARTS.histogram;
    if (chart?.kind !== "histogram") throw new Error("histogram expected");
    expect(chart.edges).toEqual([0, 50, 100, 150, 200, 250, 300, 350, 400, 450]);
    for (const s of chart.series) {
      expect(s.values).toHaveLength(chart.edges.length - 1);
      expect(s.values.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    }
    expect(chart.series[0]?.values[0]).toBeCloseTo(50 / 1000, 12);
    expect(chart.alt).toContain("amount");
    expect(chart.alt).toContain("wasserstein 0.978");
    expect(chart.alt).toContain("threshold 0.1");
  });

  it("shows a categorical feature's largest values as bars, saying how many are left out", () => {
    const reference: Record<string, number> = {};
    const current: Record<string, number> = {};
    for (let i = 0; i < 30; i++) {
      reference[`c${i}`] = 30 - i;
      current[`c${i}`] = i === 29 ? 500 : 30 - i;
    }
    const chart = driftDistributionChart({
      feature: "merchant",
      method: "chi2",
      value: 1e-9,
      threshold: 0.05,
      isTest: true,
      distribution: { kind: "categorical", reference, current },
    });
    if (chart.kind !== "bars") throw new Error("bars expected");
    expect(chart.categories).toHaveLength(12);
    expect(chart.categories[0]).toBe("c29");
    expect(chart.subtitle).toContain("largest 12 of 30 values");
    expect(chart.alt).toContain("merchant");
    expect(chart.alt).toContain("p = 1.0e-9 < 0.05");
  });

  it("charts CBPE estimated next to realised within the learned band", () => {
    const runs = [
      { startedAt: new Date(T0), status: "ok", metrics: { value: 0.92, mode: "realised", lower: 0.88 } },
      {
        startedAt: new Date(T0 + HOUR),
        status: "ok",
        metrics: { value: 0.91, mode: "estimated (CBPE)", lower: 0.88 },
      },
      {
        startedAt: new Date(T0 + 2 * HOUR),
        status: "alert",
        metrics: { value: 0.8, mode: "estimated (CBPE)", lower: 0.88 },
      },
      { startedAt: new Date(T0 + 3 * HOUR), status: "skipped", metrics: {} },
    ];
    const chart = historyChart("performance", "accuracy", {}, runs, { band: { lower: 0.88, upper: 0.96 } });
    if (chart?.kind !== "line") throw new Error("line expected");
    expect(chart.series.map((s) => [s.name, s.points.map((p) => p.v)])).toEqual([
      ["realised accuracy", [0.92]],
      ["estimated accuracy (CBPE)", [0.91, 0.8]],
    ]);
    expect(chart.band).toMatchObject({ lower: 0.88, upper: 0.96 });
    expect(chart.alt).toContain("latest 0.8");
  });
});
