import { type Bot, type BotOptions, startBot } from "../../src/bot.js";
import { loadConfig, type MlopsConfig, type ModelConfig, parseEnv } from "../../src/config/index.js";
import { openTestDatabase, testLogger } from "./db.js";

/** The shipped demo config, as tests use it. */
export function demoConfig(): MlopsConfig {
  return loadConfig(new URL("../../mlops.config.yaml", import.meta.url).pathname, {});
}

/**
 * The input (the YAML's shape: durations are strings) of a small config: the demo's workspace,
 * groups and sandbox people, and one model, `fraud-detector`, on `amount` alone. `sections` adds
 * or replaces top-level sections; `model` adds fields to the model.
 */
export function oneModelConfigInput(
  sections: Record<string, unknown> = {},
  model: Record<string, unknown> = {},
): Record<string, unknown> {
  const demo = demoConfig();
  return {
    workspace: {
      name: demo.workspace.name,
      alert_channel: demo.workspace.alert_channel,
      user_groups: demo.workspace.user_groups,
    },
    models: [
      {
        slug: "fraud-detector",
        name: "Fraud detector",
        task: "binary_classification",
        owners: "fraud-ml",
        alert_channel: "#fraud-alerts",
        features: [{ name: "amount", type: "numeric" }],
        ...model,
      },
    ],
    sandbox: { channels: ["#mlops-alerts", "#fraud-alerts"], users: demo.sandbox.users },
    ...sections,
  };
}

/**
 * `config` with one incident per finding (`alerting.group_by` listing every label), for tests that
 * open several incidents on one model's monitor with findings of different subjects and are about
 * something other than grouping.
 */
export function oneIncidentPerFinding(config: MlopsConfig = demoConfig()): MlopsConfig {
  return { ...config, alerting: { ...config.alerting, group_by: ["model", "monitor", "subject"] } };
}

/**
 * The demo config with only the drift monitor, on two features (amount, country): the demo's drift
 * injection then makes two problems (amount, and the dataset as a whole) instead of a dozen, which
 * keeps the channel's one-write-a-second pace from dominating a test. `over` changes the model.
 */
export function driftOnlyConfig(over: Partial<ModelConfig> = {}): MlopsConfig {
  const config = demoConfig();
  const fraud = config.models[0] as ModelConfig;
  const features = fraud.features.filter((f) => f.name === "amount" || f.name === "country");
  // Global drift only: the tests built on this count incidents, members and clean runs, and the
  // demo's per-country runs would add segment findings of their own (segments have their tests).
  const drift = {
    ...(fraud.monitors.drift as NonNullable<ModelConfig["monitors"]["drift"]>),
    by_segment: false,
  };
  return { ...config, models: [{ ...fraud, features, segments: [], monitors: { drift }, ...over }] };
}

/**
 * `config` with every schedule's handoff reminders off. Test bots on the real clock use it: the
 * reminder job reads the clock each minute, and the demo's Monday 09:00 Berlin handoff would DM
 * Dana at 08:30 on a Monday inside whatever test runs then.
 */
export function withoutHandoffReminders(config: MlopsConfig): MlopsConfig {
  return {
    ...config,
    schedules: Object.fromEntries(
      Object.entries(config.schedules).map(([name, s]) => [name, { ...s, remind_before: "off" as const }]),
    ),
  };
}

/** Starts a bot in this process on a free port, with the sandbox and a fresh test database. */
export async function startTestBot(
  opts: {
    config?: MlopsConfig;
    now?: () => number;
    features?: BotOptions["features"];
    clock?: BotOptions["clock"];
    /** Further environment variables (e.g. TRUST_PROXY, MLOPS_API_TOKEN, MLOPS_SANDBOX_SOCKET). */
    env?: Record<string, string>;
    /** Keep the schedules' handoff reminders (`remind_before`); off by default (`withoutHandoffReminders`). */
    handoffReminders?: boolean;
  } = {},
): Promise<Bot & { sandbox: NonNullable<Bot["sandbox"]> }> {
  const database = await openTestDatabase();
  const env = parseEnv({ PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "silent", ...opts.env });
  const given = opts.config ?? demoConfig();
  const config = opts.handoffReminders ? given : withoutHandoffReminders(given);
  const bot = await startBot({
    env,
    config,
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
