import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../../src/config/index.js";
import { derivedFeatures, embeddingFeatures } from "../../src/models/index.js";

const demo = readFileSync(new URL("../../mlops.config.yaml", import.meta.url), "utf8");
const FEATURE = "      - { name: country, type: categorical }\n";
const MONITORS = "    monitors:\n";

function problems(text: string): string {
  try {
    parseConfig(text, "test.yaml", {});
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems.join("\n");
  }
  throw new Error("expected the config to be refused");
}

const withEmbedding = (feature: string, monitor = "      multivariate: { embedding_components: 3 }\n") =>
  demo.replace(FEATURE, `${FEATURE}${feature}`).replace(MONITORS, `${MONITORS}${monitor}`);

describe("embedding features in the config", () => {
  it("an embedding with dimensions gets a distance and one projection per component as derived slots, no slot of its own", () => {
    const model = parseConfig(
      withEmbedding("      - { name: description, type: embedding, dimensions: 384 }\n"),
      "test.yaml",
      {},
    ).models[0];
    expect(model).toBeDefined();
    if (!model) return;
    expect(embeddingFeatures(model)).toEqual([{ name: "description", dimensions: 384 }]);
    expect(model.monitors.multivariate).toMatchObject({ embedding_sample: 2000 });
    const derived = derivedFeatures(model).map((f) => f.name);
    expect(derived.filter((n) => n.startsWith("description"))).toEqual([
      "description(distance)",
      "description(pc1)",
      "description(pc2)",
      "description(pc3)",
    ]);
    expect(derived).not.toContain("(sq_residual:description)");
  });

  it("refuses an embedding without dimensions, dimensions on a numeric feature, and too many, naming the path", () => {
    expect(problems(withEmbedding("      - { name: description, type: embedding }\n"))).toMatch(
      /models\[0\]\.features\[7\]\.dimensions.*embedding feature 'description' needs dimensions/,
    );
    expect(
      problems(
        demo.replace("{ name: amount, type: numeric }", "{ name: amount, type: numeric, dimensions: 3 }"),
      ),
    ).toMatch(
      /models\[0\]\.features\[0\]\.dimensions.*applies to embedding features only \('amount' is numeric\)/,
    );
    expect(problems(withEmbedding("      - { name: d, type: embedding, dimensions: 5000 }\n"))).toMatch(
      /models\[0\]\.features\[7\]\.dimensions/,
    );
  });

  it("refuses an embedding no monitor watches, or one given to the univariate drift monitor", () => {
    expect(problems(withEmbedding("      - { name: d, type: embedding, dimensions: 8 }\n", ""))).toMatch(
      /models\[0\]\.features\[7\]\.type.*embedding feature 'd' is monitored by monitors\.multivariate; add it/,
    );
    expect(
      problems(
        withEmbedding("      - { name: d, type: embedding, dimensions: 8 }\n").replace(
          "amount: { method: psi, threshold: 0.2 }",
          "d: { method: psi }",
        ),
      ),
    ).toMatch(/models\[0\]\.monitors\.drift\.features\.d.*'d' is an embedding/);
  });
});
