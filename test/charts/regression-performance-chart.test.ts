import { describe, expect, it } from "vitest";
import { historyChart } from "../../src/charts/monitor-charts.js";

const runs = (metrics: Record<string, unknown>[]) =>
  metrics.map((m, i) => ({ startedAt: new Date(Date.UTC(2026, 11, 1, i)), status: "ok", metrics: m }));

describe("the performance history chart says which side of the band alerts", () => {
  it("a regression error (RMSE) alerts above the learned band's upper edge", () => {
    const chart = historyChart(
      "performance",
      "rmse",
      {},
      runs([
        { metric: "rmse", value: 2, upper: 2.6, direction: "above", mode: "realised" },
        { metric: "rmse", value: 4, upper: 2.6, direction: "above", mode: "realised" },
      ]),
      { band: { lower: 1.4, upper: 2.6 } },
    );
    expect(chart?.subtitle).toBe("Alert above 2.6, the learned band's upper edge");
  });

  it("without a band, the fixed limit of an error is drawn as 'alert above'; R² and F1 still alert below", () => {
    const error = historyChart(
      "performance",
      "mae",
      {},
      runs([{ metric: "mae", value: 1, upper: 1.8, direction: "above", mode: "realised" }]),
    );
    expect(error?.subtitle).toBe("Alert above 1.8");
    const r2 = historyChart(
      "performance",
      "r2",
      {},
      runs([{ metric: "r2", value: 0.9, lower: 0.8, direction: "below", mode: "realised" }]),
      { band: { lower: 0.8, upper: 0.99 } },
    );
    expect(r2?.subtitle).toBe("Alert below 0.8, the learned band's lower edge");
    const f1 = historyChart("performance", "f1", {}, runs([{ metric: "f1", value: 0.7, lower: 0.6 }]));
    expect(f1?.subtitle).toBe("Alert below 0.6");
  });
});
