/** Config test helpers: the demo config's text, and the problems a refused config reports. */
import { readFileSync } from "node:fs";
import { expect } from "vitest";
import { ConfigError, parseConfig } from "../../src/config/index.js";

/** The text of the default config, mlops.config.yaml (the demo's). */
export const demoConfigText = readFileSync(new URL("../../mlops.config.yaml", import.meta.url), "utf8");

/** The problems of a config that must be refused (the test fails if it is accepted). */
export function configProblems(text: string, env: Record<string, string> = {}): string[] {
  try {
    parseConfig(text, "test.yaml", env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error("expected the config to be refused");
}
