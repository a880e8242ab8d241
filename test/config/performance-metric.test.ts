import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/index.js";
import { configProblems, demoConfigText } from "../helpers/config.js";

const demo = demoConfigText;
const problems = configProblems;
const regression = (text: string) => text.replace("task: binary_classification", "task: regression");

describe("the performance monitor's metric and the model's task", () => {
  it("refuses a regression metric for a classification model, naming the key", () => {
    const p = problems(demo.replace("metric: f1", "metric: rmse"));
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(
      /^models\[0\]\.monitors\.performance\.metric \(line \d+\): 'rmse' does not apply to a binary_classification model \(expected one of: accuracy, precision, recall, f1, roc_auc\)$/,
    );
  });

  it("refuses a classification metric for a regression model, naming the key", () => {
    const p = problems(regression(demo));
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(
      /^models\[0\]\.monitors\.performance\.metric \(line \d+\): 'f1' does not apply to a regression model \(expected one of: mae, rmse, mape, r2\)$/,
    );
  });

  it("accepts mae, rmse, mape and r2 for a regression model", () => {
    for (const metric of ["mae", "rmse", "mape", "r2"]) {
      const config = parseConfig(regression(demo.replace("metric: f1", `metric: ${metric}`)), "t.yaml", {});
      expect(config.models[0]?.monitors.performance?.metric).toBe(metric);
    }
  });

  it("defaults to f1 for classification and rmse for regression when no metric is named", () => {
    const without = demo.replace("        metric: f1\n", "");
    expect(parseConfig(without, "t.yaml", {}).models[0]?.monitors.performance?.metric).toBe("f1");
    expect(parseConfig(regression(without), "t.yaml", {}).models[0]?.monitors.performance?.metric).toBe(
      "rmse",
    );
  });

  it("a regression model's drift may override the method of its (residual) column; a classifier's may not", () => {
    const line = "          amount: { method: psi, threshold: 0.2 }\n";
    const override = (text: string) => text.replace(line, `${line}          "(residual)": { method: psi }\n`);
    const config = parseConfig(regression(override(demo)).replace("metric: f1", "metric: mae"), "t.yaml", {});
    expect(config.models[0]?.monitors.drift?.features["(residual)"]?.method).toBe("psi");
    expect(problems(override(demo))[0]).toMatch(
      /^models\[0\]\.monitors\.drift\.features\.\(residual\).*unknown feature '\(residual\)'/,
    );
  });
});
