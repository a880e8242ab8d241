import { startBot } from "./bot.js";
import {
  ConfigError,
  checkBotEnv,
  describeDatabase,
  isLoopbackHost,
  listenHost,
  loadConfig,
  parseEnv,
  slackMode,
} from "./config/index.js";
import { createLogger, prettyDestination } from "./shared/logger.js";
import { attachSandboxConsole } from "./slack/sandbox-console.js";

/** Shutdown must not hang forever on a stuck connection. */
const SHUTDOWN_GRACE_MS = 10_000;

async function main(): Promise<void> {
  let env: ReturnType<typeof parseEnv>;
  let config: ReturnType<typeof loadConfig>;
  try {
    env = parseEnv(process.env);
    checkBotEnv(env);
    config = loadConfig(env.MLOPS_CONFIG, process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`mlops-bot: ${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  const pretty = env.LOG_FORMAT === "pretty" || (env.LOG_FORMAT === "auto" && process.stdout.isTTY === true);
  const logger = createLogger(env.LOG_LEVEL, pretty ? prettyDestination() : undefined);

  // Signals are handled from the first moment: one that arrives while the bot is still starting
  // waits for the start to finish and then shuts down gracefully, instead of killing it mid-way.
  let stopRequested: NodeJS.Signals | undefined;
  let stop: ((signal: NodeJS.Signals) => void) | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stop) stop(signal);
    else stopRequested ??= signal;
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  const mode = slackMode(env);
  const listen = `${listenHost(env)}:${env.PORT}`;
  const database = describeDatabase(env);
  // The first line says what this process is about to be, so a wrong mode is seen at once.
  logger.info(
    { mode, database, listen, config: env.MLOPS_CONFIG },
    `mlops-bot starting: mode ${mode}, database ${database}, listening on ${listen}`,
  );
  if (mode === "sandbox" && env.HOST && !isLoopbackHost(env.HOST)) {
    logger.warn(
      { host: env.HOST },
      "HOST is set in sandbox mode: the sandbox acts as any Slack user (runbooks, silences, retraining) for anyone who can reach this address",
    );
  }
  let bot: Awaited<ReturnType<typeof startBot>>;
  try {
    bot = await startBot({ env, config, logger, hostEnv: process.env });
  } catch (err) {
    // Problems found in files read during the start (runbook manifests) are configuration errors too.
    if (err instanceof ConfigError) {
      process.stderr.write(`mlops-bot: ${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  const detachConsole = attachSandboxConsole(bot, config, logger);

  let stopping = false;
  stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    const force = setTimeout(() => {
      logger.error("graceful shutdown timed out; exiting");
      process.exit(1);
    }, SHUTDOWN_GRACE_MS);
    force.unref();
    detachConsole();
    bot.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, "error during shutdown");
        process.exit(1);
      },
    );
  };
  if (stopRequested) stop(stopRequested);
}

main().catch((err: unknown) => {
  process.stderr.write(`mlops-bot failed to start: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
