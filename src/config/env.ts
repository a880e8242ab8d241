import { isIP } from "node:net";
import { z } from "zod";
import { ConfigError } from "./errors.js";

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v));

/** Shortest `MLOPS_API_TOKEN` accepted outside sandbox mode. */
export const MIN_API_TOKEN_LENGTH = 16;

/**
 * `TRUST_PROXY` as fastify's `trustProxy` takes it: `true`/`false`, a hop count, or a
 * comma-separated list of addresses and CIDR ranges of the proxies to trust.
 */
const trustProxy = z
  .string()
  .optional()
  .transform((v, ctx): boolean | number | string[] => {
    const s = (v ?? "").trim();
    if (s === "" || s === "false" || s === "0") return false;
    if (s === "true") return true;
    if (/^\d+$/.test(s)) return Number(s);
    const list = s
      .split(",")
      .map((x) => x.trim())
      .filter(Boolean);
    for (const item of list) {
      const [address, bits, ...rest] = item.split("/");
      const family = isIP(address ?? "");
      const maxBits = family === 6 ? 128 : 32;
      const badBits = bits !== undefined && (!/^\d+$/.test(bits) || Number(bits) > maxBits);
      if (!family || badBits || rest.length) {
        ctx.addIssue({
          code: "custom",
          message: `'${item}' is not an address or CIDR range (expected true, false, a hop count, or a list like 10.0.0.0/8,127.0.0.1)`,
        });
        return z.NEVER;
      }
    }
    return list;
  });

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
  /** Unset: 127.0.0.1 in sandbox mode (it acts for anyone who reaches it), 0.0.0.0 with Slack. */
  HOST: optionalString,
  SLACK_BOT_TOKEN: optionalString,
  SLACK_SIGNING_SECRET: optionalString,
  SLACK_APP_TOKEN: optionalString,
  SLACK_API_URL: z.url().default("https://slack.com/api/"),
  MLOPS_API_TOKEN: optionalString,
  /** `1` says the sandbox is meant even though `DATABASE_URL` is set. */
  MLOPS_SANDBOX: z.enum(["", "0", "1"]).default(""),
  /** `1`: the bot reaches the built-in sandbox over Socket Mode instead of HTTP. */
  MLOPS_SANDBOX_SOCKET: z.enum(["", "0", "1"]).default(""),
  TRUST_PROXY: trustProxy,
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** `pretty` for people, `json` for log collectors; `auto` is pretty on a terminal, JSON otherwise. */
  LOG_FORMAT: z.enum(["auto", "json", "pretty"]).default("auto"),
});

/** Parsed environment. */
export type Env = z.infer<typeof envSchema>;

/** How the bot talks to Slack, decided by which credentials are present. */
export type SlackMode = "http" | "socket" | "sandbox";

/** Variables that must never be set-but-empty: a secret that failed to mount must not pick another mode. */
const NOT_BLANK = [
  "SLACK_BOT_TOKEN",
  "SLACK_SIGNING_SECRET",
  "SLACK_APP_TOKEN",
  "DATABASE_URL",
  "HOST",
] as const;

/** Parses the environment; throws ConfigError naming each bad variable. */
export function parseEnv(source: Record<string, string | undefined>): Env {
  const result = envSchema.safeParse(source);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    throw new ConfigError("environment", problems);
  }
  const env = result.data;
  const blank = NOT_BLANK.filter((name) => source[name] !== undefined && source[name]?.trim() === "");
  if (blank.length) {
    throw new ConfigError(
      "environment",
      blank.map(
        (name) => `${name}: set but empty (a secret that failed to mount?); unset it or give it a value`,
      ),
    );
  }
  if (env.SLACK_BOT_TOKEN && !env.SLACK_SIGNING_SECRET && !env.SLACK_APP_TOKEN) {
    throw new ConfigError("environment", [
      "SLACK_SIGNING_SECRET: required when SLACK_BOT_TOKEN is set (HTTP mode), or set SLACK_APP_TOKEN for Socket Mode",
    ]);
  }
  if (!env.SLACK_BOT_TOKEN && (env.SLACK_SIGNING_SECRET || env.SLACK_APP_TOKEN)) {
    throw new ConfigError("environment", [
      `SLACK_BOT_TOKEN: required when ${env.SLACK_SIGNING_SECRET ? "SLACK_SIGNING_SECRET" : "SLACK_APP_TOKEN"} is set`,
    ]);
  }
  return env;
}

/**
 * Checks that only matter to the bot itself (not to `npm run token:*`, which reads the same
 * environment): the sandbox is never chosen by accident against a real database, and the
 * bootstrap token is long enough wherever it guards something real.
 */
export function checkBotEnv(env: Env): void {
  const problems: string[] = [];
  const mode = slackMode(env);
  if (mode === "sandbox" && env.DATABASE_URL && env.MLOPS_SANDBOX !== "1") {
    problems.push(
      "DATABASE_URL: set, but no Slack credentials are, which would run the built-in sandbox against that database; set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN), or MLOPS_SANDBOX=1 if the sandbox is meant",
    );
  }
  if (mode !== "sandbox" && env.MLOPS_SANDBOX === "1") {
    problems.push("MLOPS_SANDBOX: set to 1, but Slack credentials are set too; unset one of them");
  }
  if (mode !== "sandbox" && env.MLOPS_SANDBOX_SOCKET === "1") {
    problems.push(
      "MLOPS_SANDBOX_SOCKET: set to 1, but Slack credentials are set, so there is no sandbox; unset it (SLACK_APP_TOKEN alone selects Socket Mode with Slack)",
    );
  }
  if (mode !== "sandbox" && env.MLOPS_API_TOKEN && env.MLOPS_API_TOKEN.length < MIN_API_TOKEN_LENGTH) {
    problems.push(
      `MLOPS_API_TOKEN: shorter than ${MIN_API_TOKEN_LENGTH} characters; use a long random value (e.g. openssl rand -hex 20)`,
    );
  }
  if (problems.length) throw new ConfigError("environment", problems);
}

/** Which Slack transport the environment selects. */
export function slackMode(env: Env): SlackMode {
  if (!env.SLACK_BOT_TOKEN) return "sandbox";
  return env.SLACK_APP_TOKEN ? "socket" : "http";
}

/** The address the HTTP server listens on: `HOST`, else loopback for the sandbox and all interfaces with Slack. */
export function listenHost(env: Env): string {
  return env.HOST ?? (slackMode(env) === "sandbox" ? "127.0.0.1" : "0.0.0.0");
}

/** True for an address only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/** A database URL fit for a log line: the password is replaced. */
export function describeDatabase(env: Env): string {
  if (!env.DATABASE_URL) return `pglite ${env.MLOPS_DATA_DIR}`;
  try {
    const url = new URL(env.DATABASE_URL);
    if (url.password) url.password = "***";
    return url.toString();
  } catch {
    return "postgres (unparsable DATABASE_URL)";
  }
}
