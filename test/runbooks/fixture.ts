import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Bot, startBot } from "../../src/bot.js";
import { type MlopsConfig, parseEnv } from "../../src/config/index.js";
import { loadRunbooks, type RunbookLimits, suggestFor } from "../../src/runbooks/index.js";
import type { AlertSignal } from "../../src/shared/alert-signal.js";
import { createIncidentsFeature, type IncidentsFeature } from "../../src/wiring/incidents-feature.js";
import { createMonitoringFeature } from "../../src/wiring/monitoring-feature.js";
import { createRunbooksFeature, type RunbooksFeature } from "../../src/wiring/runbooks-feature.js";
import { demoConfig } from "../helpers/bot.js";
import { openTestDatabase, testLogger } from "../helpers/db.js";
import { ROOT } from "../helpers/process.js";

/** The bot's API token in these tests (also in the runbooks' host environment). */
export const RUNBOOK_API_TOKEN = "mlops_e2e_runbooks_token_0123456789abcdef";

/** A runbooks folder for one test file: the shipped runbooks plus the given test ones. */
export function runbooksDir(extra: Record<string, Record<string, string>> = {}): {
  dir: string;
  remove(): void;
} {
  const dir = mkdtempSync(join(tmpdir(), "mlops-runbooks-"));
  cpSync(join(ROOT, "runbooks"), dir, { recursive: true });
  for (const [name, files] of Object.entries(extra)) {
    mkdirSync(join(dir, name), { recursive: true });
    for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, name, file), text);
  }
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A bot in this process against the sandbox with the incidents and runbooks features. */
export type RunbookBot = Bot & {
  sandbox: NonNullable<Bot["sandbox"]>;
  incidents: IncidentsFeature;
  runbooks: RunbooksFeature;
};

/** Starts the bot with a fresh test database, the runbooks in `dir`, and `config` (demo by default). */
export async function startRunbookBot(opts: {
  dir: string;
  config?: MlopsConfig;
  limits?: Partial<RunbookLimits>;
  hostEnv?: Record<string, string>;
  /** Also ship the monitoring feature (its API serves the data-quality runbook); no schedules. */
  monitoring?: boolean;
}): Promise<RunbookBot> {
  const database = await openTestDatabase();
  const env = parseEnv({
    PORT: "0",
    HOST: "127.0.0.1",
    LOG_LEVEL: "silent",
    MLOPS_API_TOKEN: RUNBOOK_API_TOKEN,
  });
  let incidents: IncidentsFeature | undefined;
  let runbooks: RunbooksFeature | undefined;
  const bot = await startBot({
    env,
    config: opts.config ?? demoConfig(),
    logger: testLogger,
    slackRetries: 0,
    database,
    // The bot's own token is in its environment, as in production; no runbook may be handed it.
    hostEnv: { PATH: process.env.PATH ?? "", MLOPS_API_TOKEN: RUNBOOK_API_TOKEN, ...opts.hostEnv },
    features: (ctx) => {
      const list = loadRunbooks(opts.dir, ctx.config);
      incidents = createIncidentsFeature(ctx, {
        tickMs: 200,
        suggestRunbooks: (i) => suggestFor(list, i),
      });
      runbooks = createRunbooksFeature(ctx, { runbooks: list, incidents, limits: opts.limits });
      const monitoring = opts.monitoring
        ? [createMonitoringFeature(ctx, { sink: incidents.sink, schedule: false })]
        : [];
      return [incidents, ...monitoring, runbooks];
    },
  });
  if (!bot.sandbox || !incidents || !runbooks) throw new Error("expected sandbox mode and both features");
  return { ...bot, sandbox: bot.sandbox, incidents, runbooks };
}

let seq = 0;

/** A firing signal of the demo model, as a monitor would send it. */
export function signal(over: Partial<AlertSignal> = {}): AlertSignal {
  return {
    source: "monitor",
    model: "fraud-detector",
    modelVersion: "v2",
    monitor: "probe",
    subject: `golden_${++seq}`,
    status: "firing",
    severity: "critical",
    title: "Golden inputs answered wrongly",
    summary: "2 of 2 golden inputs got the wrong answer.",
    metrics: { wrong: 2, total: 2 },
    rule: "every golden input must match",
    observedAt: new Date(),
    ...over,
  };
}
