import { type Bot, type BotOptions, startBot } from "../../src/bot.js";
import { loadConfig, type MlopsConfig, parseEnv } from "../../src/config/index.js";
import { openTestDatabase, testLogger } from "./db.js";

/** The shipped demo config, as tests use it. */
export function demoConfig(): MlopsConfig {
  return loadConfig(new URL("../../mlops.config.yaml", import.meta.url).pathname, {});
}

/** Starts a bot in this process on a free port, with the sandbox and a fresh test database. */
export async function startTestBot(
  opts: {
    config?: MlopsConfig;
    now?: () => number;
    features?: BotOptions["features"];
    clock?: BotOptions["clock"];
  } = {},
): Promise<Bot & { sandbox: NonNullable<Bot["sandbox"]> }> {
  const database = await openTestDatabase();
  const env = parseEnv({ PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "silent" });
  const bot = await startBot({
    env,
    config: opts.config ?? demoConfig(),
    logger: testLogger,
    now: opts.now,
    features: opts.features,
    clock: opts.clock,
    slackRetries: 0,
    database,
  });
  if (!bot.sandbox) throw new Error("expected sandbox mode");
  const close = bot.close;
  return { ...bot, sandbox: bot.sandbox, close: close };
}
