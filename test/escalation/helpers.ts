import { type Bot, startBot } from "../../src/bot.js";
import { configSchema, type MlopsConfig, parseEnv } from "../../src/config/index.js";
import { escalationDescriber, severityEscalator } from "../../src/escalation/index.js";
import type { AlertSignal } from "../../src/shared/alert-signal.js";
import type { Clock } from "../../src/shared/clock.js";
import type { SandboxMessage } from "../../src/slack/sandbox/index.js";
import { createEscalationFeature, type EscalationFeature } from "../../src/wiring/escalation-feature.js";
import { createIncidentsFeature, type IncidentsFeature } from "../../src/wiring/incidents-feature.js";
import { oneModelConfigInput } from "../helpers/bot.js";
import { openTestDatabase, testLogger } from "../helpers/db.js";
import { driftFinding } from "../helpers/signals.js";

/**
 * A clock that runs with real time (the outbox paces channels by it) and that a test can move
 * forward to cross escalation deadlines without waiting.
 */
export function skippingClock(): Clock & { advance(ms: number): void } {
  let offset = 0;
  return {
    now: () => new Date(Date.now() + offset),
    advance(ms) {
      offset += ms;
    },
  };
}

/**
 * The demo config with an escalation policy for tests (merged over the demo's). Each test opens
 * its incident with a drift finding on a subject of its own, so findings are not grouped here
 * (one incident per finding); grouping has tests of its own.
 */
export function escalationConfig(escalation: Record<string, unknown>): MlopsConfig {
  return configSchema.parse(
    oneModelConfigInput({ alerting: { group_by: ["model", "monitor", "subject"] }, escalation }),
  );
}

/** A bot with the incidents and escalation features (nothing else), on the sandbox and a fresh database. */
export type EscalationBot = Bot & {
  sandbox: NonNullable<Bot["sandbox"]>;
  incidents: IncidentsFeature;
  escalation: EscalationFeature;
};

export async function startEscalationBot(opts: {
  config: MlopsConfig;
  clock: Clock;
  tickMs?: number;
}): Promise<EscalationBot> {
  const database = await openTestDatabase();
  const env = parseEnv({ PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "silent" });
  let incidents: IncidentsFeature | undefined;
  let escalation: EscalationFeature | undefined;
  const bot = await startBot({
    env,
    config: opts.config,
    logger: testLogger,
    slackRetries: 0,
    database,
    clock: opts.clock,
    features: (ctx) => {
      incidents = createIncidentsFeature(ctx, {
        tickMs: 200,
        describeEscalation: escalationDescriber(ctx.config),
        severityChanged: severityEscalator(ctx.config),
      });
      escalation = createEscalationFeature(ctx, { incidents }, { tickMs: opts.tickMs ?? 100 });
      return [incidents, escalation];
    },
  });
  if (!bot.sandbox || !incidents || !escalation) throw new Error("expected sandbox mode");
  return { ...bot, sandbox: bot.sandbox, incidents, escalation };
}

let seq = 0;

/** A drift finding as a monitor would emit it, on a subject of its own. */
export function driftSignal(clock: Clock, over: Partial<AlertSignal> = {}): AlertSignal {
  const subject = `amount_${++seq}_${Math.random().toString(36).slice(2, 6)}`;
  return driftFinding(subject, { observedAt: clock.now(), ...over });
}

/** Opens an incident through the alert intake; its id and ref. */
export async function openIncident(bot: EscalationBot, clock: Clock) {
  const [outcome] = await bot.incidents.intake.process([driftSignal(clock)]);
  if (!outcome?.incidentId) throw new Error("expected an incident");
  return { id: outcome.incidentId, ref: `INC-${outcome.incidentId}` };
}

/** The DM channel of a sandbox user with the bot, and its messages. */
export function dmsOf(bot: EscalationBot, user: string): SandboxMessage[] {
  const { channel } = bot.sandbox.workspace.openDm([user]);
  return bot.sandbox.workspace.messages(channel.id);
}

/** The Slack id the sandbox gave a user group. */
export function groupId(bot: EscalationBot, handle: string): string {
  const group = bot.sandbox.workspace.userGroupByHandle(handle);
  if (!group) throw new Error(`no group @${handle}`);
  return group.id;
}
