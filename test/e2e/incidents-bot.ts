import { type Bot, startBot } from "../../src/bot.js";
import { type MlopsConfig, parseEnv } from "../../src/config/index.js";
import { createOutboxRepository } from "../../src/outbox/index.js";
import type { Clock } from "../../src/shared/clock.js";
import type { SandboxMessage } from "../../src/slack/sandbox/index.js";
import {
  createIncidentsFeature,
  type IncidentsFeature,
  type IncidentsFeatureOptions,
} from "../../src/wiring/incidents-feature.js";
import { demoConfig, withoutHandoffReminders } from "../helpers/bot.js";
import { openTestDatabase, testLogger } from "../helpers/db.js";

/** The API token the incident e2e bots accept. */
export const API_TOKEN = "mlops_e2e_incidents_token_0123456789abcdef";

/** A bot in this process against the sandbox, shipping the incidents feature (or every feature). */
export type IncidentBot = Bot & { sandbox: NonNullable<Bot["sandbox"]>; feature: IncidentsFeature };

/**
 * Starts the bot with a fresh test database. `allFeatures` ships `createFeatures` as `npm start`
 * does (then `feature` is unset: drive it over HTTP); otherwise only the incidents feature.
 */
export async function startIncidentBot(
  opts: {
    config?: MlopsConfig;
    feature?: IncidentsFeatureOptions;
    allFeatures?: boolean;
    /** The clock deadlines are read with (the Slack signature window keeps real time). */
    clock?: Clock;
    /** Further environment variables (e.g. MLOPS_SANDBOX_SOCKET=1). */
    env?: Record<string, string>;
  } = {},
): Promise<IncidentBot> {
  const database = await openTestDatabase();
  const env = parseEnv({
    PORT: "0",
    HOST: "127.0.0.1",
    LOG_LEVEL: "silent",
    MLOPS_API_TOKEN: API_TOKEN,
    ...opts.env,
  });
  let feature: IncidentsFeature | undefined;
  const bot = await startBot({
    env,
    // Handoff reminders off: with every feature on, the demo's would fire on a real Monday morning.
    config: withoutHandoffReminders(opts.config ?? demoConfig()),
    logger: testLogger,
    slackRetries: 0,
    database,
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.allFeatures
      ? {}
      : {
          features: (ctx) => {
            feature = createIncidentsFeature(ctx, opts.feature);
            return [feature];
          },
        }),
  });
  if (!bot.sandbox) throw new Error("expected sandbox mode");
  return { ...bot, sandbox: bot.sandbox, feature: feature as IncidentsFeature };
}

/** Polls until `check` returns a value (not undefined/false), or fails naming `what`. */
export async function eventually<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 10_000,
): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() - started > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Waits until the bot's outbox has nothing left to send. */
export async function outboxDrained(bot: Bot, timeoutMs = 15_000): Promise<void> {
  const repo = createOutboxRepository(bot.database.db);
  await eventually(
    "the outbox to drain",
    async () => {
      const counts = await repo.countByState();
      return !counts.pending && !counts.sending;
    },
    timeoutMs,
  );
}

/** The card of incident `ref` in a channel (top-level bot message whose text starts with the ref). */
export function cardOf(bot: IncidentBot, channel: string, ref: string): SandboxMessage | undefined {
  return bot.sandbox.workspace.messages(channel).find((m) => m.text.startsWith(`${ref} [`));
}

/** Every button action_id in a message. */
export function buttonIds(message: SandboxMessage | undefined): string[] {
  const ids: string[] = [];
  for (const block of message?.blocks ?? []) {
    if (block.type !== "actions" || !Array.isArray(block.elements)) continue;
    for (const el of block.elements as { action_id?: string }[]) if (el.action_id) ids.push(el.action_id);
  }
  return ids;
}
