import { z } from "zod";
import { ConfigError } from "./errors.js";

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v));

/** The process environment the bot reads: the table in docs/configuration.md. Parsed once at boot. */
export const envSchema = z.object({
  DATABASE_URL: optionalString.describe("Postgres connection string; unset means embedded PGlite"),
  MLOPS_DATA_DIR: z.string().default("./.data").describe("Where embedded data lives"),
  MLOPS_CONFIG: z.string().default("./mlops.config.yaml").describe("Path of the YAML config"),
  MLOPS_RUNBOOKS_DIR: z
    .string()
    .default("./runbooks")
    .describe("Folder of the L1 runbooks (one folder each)"),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default("0.0.0.0"),
  SLACK_BOT_TOKEN: optionalString,
  SLACK_SIGNING_SECRET: optionalString,
  SLACK_APP_TOKEN: optionalString,
  SLACK_API_URL: z.url().default("https://slack.com/api/"),
  MLOPS_API_TOKEN: optionalString,
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** `pretty` for people, `json` for log collectors; `auto` is pretty on a terminal, JSON otherwise. */
  LOG_FORMAT: z.enum(["auto", "json", "pretty"]).default("auto"),
});

/** Parsed environment. */
export type Env = z.infer<typeof envSchema>;

/** How the bot talks to Slack, decided by which credentials are present. */
export type SlackMode = "http" | "socket" | "sandbox";

/** Parses the environment; throws ConfigError naming each bad variable. */
export function parseEnv(source: Record<string, string | undefined>): Env {
  const result = envSchema.safeParse(source);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    throw new ConfigError("environment", problems);
  }
  const env = result.data;
  if (env.SLACK_BOT_TOKEN && !env.SLACK_SIGNING_SECRET && !env.SLACK_APP_TOKEN) {
    throw new ConfigError("environment", [
      "SLACK_SIGNING_SECRET: required when SLACK_BOT_TOKEN is set (HTTP mode), or set SLACK_APP_TOKEN for Socket Mode",
    ]);
  }
  if (!env.SLACK_BOT_TOKEN && (env.SLACK_SIGNING_SECRET || env.SLACK_APP_TOKEN)) {
    throw new ConfigError("environment", [
      "SLACK_BOT_TOKEN: required when SLACK_SIGNING_SECRET or SLACK_APP_TOKEN is set",
    ]);
  }
  return env;
}

/** Which Slack transport the environment selects. */
export function slackMode(env: Env): SlackMode {
  if (!env.SLACK_BOT_TOKEN) return "sandbox";
  return env.SLACK_APP_TOKEN ? "socket" : "http";
}
