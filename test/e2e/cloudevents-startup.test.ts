import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { IRIS_FEATURES, irisConfigInput } from "../helpers/cloudevents.js";
import { freePort, spawnBot } from "../helpers/process.js";

const dir = mkdtempSync(join(tmpdir(), "mlops-cloudevents-start-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The iris config with the first model's mapping changed by `edit`. */
function withMapping(edit: (models: Record<string, unknown>[]) => void): string {
  const input = irisConfigInput();
  edit(input.models as Record<string, unknown>[]);
  return stringify(input);
}

const columns = Object.fromEntries(IRIS_FEATURES.map((name, i) => [name, { column: i }]));

describe("starting with a bad payload-logging mapping", { timeout: 60_000 }, () => {
  const cases: [string, string, RegExp][] = [
    [
      "a feature the model does not have",
      withMapping((m) => {
        (m[0] as { inference_logger: { features: unknown } }).inference_logger.features = {
          ...columns,
          petal_colour: { column: 4 },
        };
      }),
      /models\[0\]\.inference_logger\.features\.petal_colour \(line \d+\): unknown feature 'petal_colour'/,
    ],
    [
      "an InferenceService mapped by two models",
      withMapping((m) => {
        (m[1] as { inference_logger: { inference_service: string } }).inference_logger.inference_service =
          "sklearn-iris";
      }),
      /models\[1\]\.inference_logger\.inference_service \(line \d+\): 'sklearn-iris' is already mapped by models\[0\]/,
    ],
    [
      "no version for the rows",
      withMapping((m) => {
        delete (m[0] as { inference_logger: { version?: string } }).inference_logger.version;
      }),
      /models\[0\]\.inference_logger\.version.*required key missing/,
    ],
  ];
  for (const [what, yaml, message] of cases) {
    it(`exits 78 before listening when the mapping has ${what}, naming the key`, async () => {
      const file = join(dir, `${what.replace(/\W+/g, "-")}.yaml`);
      writeFileSync(file, yaml);
      const port = await freePort();
      const bot = spawnBot({
        PORT: String(port),
        HOST: "127.0.0.1",
        MLOPS_CONFIG: file,
        MLOPS_DATA_DIR: dir,
      });
      const exit = await bot.exited;
      expect(exit.code).toBe(78);
      expect(bot.output()).toContain(`Invalid configuration in ${file}`);
      expect(bot.output()).toMatch(message);
      expect(bot.output()).not.toContain("listening");
    });
  }
});
