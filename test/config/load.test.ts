import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseConfig, parseEnv, slackMode } from "../../src/config/index.js";
import { configJsonSchema } from "../../src/config/json-schema.js";
import { configProblems, demoConfigText } from "../helpers/config.js";

const demo = demoConfigText;
const problems = configProblems;

describe("the YAML config", () => {
  it("accepts the shipped demo with one model, fraud-detector, and fills defaults", () => {
    const config = parseConfig(demo, "mlops.config.yaml", {});
    expect(config.models.map((m) => m.slug)).toEqual(["fraud-detector"]);
    const model = config.models[0];
    expect(model?.alert_channel).toBe("fraud-alerts");
    expect(model?.monitors.drift?.window).toBe(86_400_000);
    expect(model?.monitors.probe?.timeout).toBe(5_000);
    expect(model?.features.some((f) => f.type === "categorical")).toBe(true);
    expect(config.workspace.permissions.approve).toEqual(["l2", "owners"]);
  });

  it("names the key, its line and the expected type when a value has the wrong type", () => {
    const p = problems(demo.replace("confidence_threshold: 0.75", "confidence_threshold: high"));
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(
      /^models\[0\]\.confidence_threshold \(line \d+\): expected number, received string$/,
    );
  });

  it("names an unknown key", () => {
    const p = problems(
      demo.replace("    task: binary_classification", "    colour: red\n    task: binary_classification"),
    );
    expect(p).toEqual([expect.stringMatching(/^models\[0\]\.colour \(line \d+\): unknown key 'colour'$/)]);
  });

  it("names a missing required key and what was expected", () => {
    const p = problems(demo.replace("    owners: fraud-ml\n", ""));
    expect(p).toEqual([
      expect.stringMatching(/^models\[0\]\.owners.*: required key missing \(expected string\)$/),
    ]);
  });

  it("refuses a schedule that is not a cron expression", () => {
    const p = problems(demo.replace('schedule: "*/15 * * * *"', 'schedule: "every quarter hour"'));
    expect(p[0]).toMatch(/^models\[0\]\.monitors\.data_quality\.schedule .*expected a cron expression/);
  });

  it("fills the multivariate monitor's defaults and names a variance out of (0, 1)", () => {
    const on = (block: string) =>
      demo.replace("    monitors:\n", `    monitors:\n      multivariate: ${block}\n`);
    const model = parseConfig(on("{}"), "test.yaml", {}).models[0];
    expect(model?.monitors.multivariate).toEqual({
      schedule: "0 * * * *",
      window: 3_600_000,
      variance: 0.65,
      embedding_components: 2,
      embedding_sample: 2000,
    });
    expect(problems(on("{ variance: 1.5 }"))).toEqual([
      expect.stringMatching(/^models\[0\]\.monitors\.multivariate\.variance \(line \d+\): .*1/),
    ]);
  });

  it("refuses a permission naming a user group that does not exist", () => {
    const p = problems(demo.replace("approve: [l2, owners]", "approve: [l2, owners, l9]"));
    expect(p).toEqual([
      expect.stringMatching(/^workspace\.permissions\.approve\[2\].*unknown user group 'l9'/),
    ]);
  });

  it("substitutes ${VAR} and ${VAR:-default} and reports a missing variable by key", () => {
    const withEnv = parseConfig(demo, "x.yaml", { FRAUD_SERVICE_URL: "http://fraud.internal:9000" });
    expect(withEnv.models[0]?.service_url).toBe("http://fraud.internal:9000");
    const p = problems(demo.replace("${FRAUD_SERVICE_URL:-http://127.0.0.1:8081}", "${FRAUD_URL}"));
    expect(p).toEqual([
      "models[0].service_url: environment variable FRAUD_URL is not set (referenced as ${FRAUD_URL})",
    ]);
  });

  it("reports YAML syntax errors with their line", () => {
    const p = problems(`${demo}\nbroken: [\n`);
    expect(p[0]).toMatch(/^line \d+: YAML syntax/);
  });

  it("matches the committed JSON Schema (run npm run config:schema after changing the schema)", () => {
    const committed = JSON.parse(
      readFileSync(new URL("../../mlops.config.schema.json", import.meta.url), "utf8"),
    );
    expect(committed).toEqual(JSON.parse(JSON.stringify(configJsonSchema())));
  });
});

describe("the environment", () => {
  it("defaults to embedded PGlite and the sandbox when nothing is set", () => {
    const env = parseEnv({});
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.MLOPS_DATA_DIR).toBe("./.data");
    expect(env.PORT).toBe(3000);
    expect(slackMode(env)).toBe("sandbox");
  });

  it("picks HTTP mode with a token and signing secret, Socket Mode with an app token", () => {
    expect(slackMode(parseEnv({ SLACK_BOT_TOKEN: "xoxb-1", SLACK_SIGNING_SECRET: "s" }))).toBe("http");
    expect(slackMode(parseEnv({ SLACK_BOT_TOKEN: "xoxb-1", SLACK_APP_TOKEN: "xapp-1" }))).toBe("socket");
  });

  it("refuses a bad port, a bot token without a signing secret, and a bad log level, naming each", () => {
    expect(() => parseEnv({ PORT: "eighty" })).toThrow(/PORT/);
    expect(() => parseEnv({ SLACK_BOT_TOKEN: "xoxb-1" })).toThrow(/SLACK_SIGNING_SECRET/);
    expect(() => parseEnv({ LOG_LEVEL: "loud" })).toThrow(/LOG_LEVEL/);
  });
});
