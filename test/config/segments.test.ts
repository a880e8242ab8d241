import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/index.js";
import { configProblems, demoConfigText } from "../helpers/config.js";

const demo = demoConfigText;
const problems = configProblems;

describe("segments in the config", () => {
  it("the demo segments fraud-detector by country with the default cap, and runs drift per segment", () => {
    const model = parseConfig(demo, "mlops.config.yaml", {}).models[0];
    expect(model?.segments).toEqual(["country"]);
    expect(model?.segment_cap).toBe(50);
    expect(model?.monitors.drift?.by_segment).toBe(true);
    expect(model?.monitors.confidence?.by_segment).toBe(false);
  });

  it("refuses a segment that is not a categorical feature, naming the key path", () => {
    const numeric = problems(demo.replace("segments: [country]", "segments: [amount]"));
    expect(numeric.join("\n")).toMatch(
      /models\[0\]\.segments\[0\].*segment feature 'amount' is numeric; segments need a categorical feature/,
    );
    const unknown = problems(demo.replace("segments: [country]", "segments: [city]"));
    expect(unknown.join("\n")).toMatch(/models\[0\]\.segments\[0\].*unknown feature 'city'/);
    expect(
      problems(demo.replace("segments: [country]", "segments: [country]\n    segment_cap: 0")).join("\n"),
    ).toMatch(/models\[0\]\.segment_cap/);
  });

  it("takes a feature with the values to monitor, and refuses a malformed or contradictory list", () => {
    const listed = parseConfig(
      demo.replace("segments: [country]", 'segments: ["country = DE, FR"]'),
      "t.yaml",
      {},
    );
    expect(listed.models[0]?.segments).toEqual(["country = DE, FR"]);
    const bad = (segments: string) =>
      problems(demo.replace("segments: [country]", `segments: ${segments}`)).join("\n");
    expect(bad('["country ="]')).toMatch(/models\[0\]\.segments\[0\].*not a segment/);
    expect(bad('["country = DE, , FR"]')).toMatch(/not a segment/);
    expect(bad('["country = DE, DE"]')).toMatch(/value 'DE' is listed twice/);
    expect(bad('["country = DE, (other)"]')).toMatch(/'\(other\)' is where unlisted values go/);
    expect(bad('[country, "country = DE"]')).toMatch(
      /models\[0\]\.segments\[1\].*feature 'country' is segmented twice/,
    );
    expect(bad('["amount = 1, 2"]')).toMatch(/segment feature 'amount' is numeric/);
  });
});
