import type { App } from "@slack/bolt";
import type { FastifyPluginAsync } from "fastify";
import type { AccessControl } from "./access/index.js";
import type { ApiTokenService } from "./api-tokens/index.js";
import type { AuditLog } from "./audit/index.js";
import type { MlopsConfig } from "./config/index.js";
import type { Database } from "./db/index.js";
import { escalationDescriber, severityEscalator } from "./escalation/index.js";
import type { ProcessIdentity } from "./liveness/index.js";
import { loadRunbooks, suggestFor } from "./runbooks/index.js";
import type { Clock } from "./shared/clock.js";
import type { Logger } from "./shared/logger.js";
import type { Metrics } from "./shared/metrics.js";
import type { Subcommand } from "./slack/commands/types.js";
import { createEscalationFeature } from "./wiring/escalation-feature.js";
import { createIncidentLogFeature } from "./wiring/incident-log-feature.js";
import { createIncidentsFeature } from "./wiring/incidents-feature.js";
import { createMonitoringFeature } from "./wiring/monitoring-feature.js";
import { createOnCallFeature } from "./wiring/oncall-feature.js";
import { createPagersFeature, pagerQueueOf } from "./wiring/pagers-feature.js";
import { createPayloadLogFeature } from "./wiring/payload-log-feature.js";
import { createReportsFeature } from "./wiring/reports-feature.js";
import { createRetrainingFeature } from "./wiring/retraining-feature.js";
import { createRunbooksFeature } from "./wiring/runbooks-feature.js";

/** What every feature may use; built once by the composition root. */
export interface FeatureContext {
  config: MlopsConfig;
  database: Database;
  logger: Logger;
  metrics: Metrics;
  clock: Clock;
  audit: AuditLog;
  /** Who may do what (`workspace.permissions` and Slack user-group membership). */
  access: AccessControl;
  /** API bearer tokens (MLOPS_API_TOKEN and those made by `npm run token:create`); see http/bearer-auth. */
  apiTokens: ApiTokenService;
  /** The data directory (MLOPS_DATA_DIR): fetched schedules keep their last good copy there. */
  dataDir?: string;
  /** Where the runbooks live (MLOPS_RUNBOOKS_DIR); `./runbooks` when unset. */
  runbooksDir?: string;
  /** The bot's environment, from which runbooks' `env` allowlists take values. */
  hostEnv?: Readonly<Record<string, string | undefined>>;
  /** The bot's own base URL once it listens (runbook scripts calling the bot's API). */
  selfUrl?: () => string | undefined;
  /** This process's liveness (its id goes into every claim it takes); absent in some tests. */
  liveness?: ProcessIdentity;
}

/**
 * One capability plugged into the bot: its `/mlops` subcommands, its Slack listeners (buttons,
 * modals), its HTTP routes and its background work. Each domain contributes one, so adding a
 * capability is one line in `createFeatures` rather than edits across the composition root.
 */
export interface Feature {
  name: string;
  commands?: Subcommand[];
  /** Registers Bolt listeners (actions, views). Slack-layer code only. */
  slack?: (app: App) => void;
  /** HTTP routes, registered in their own encapsulated scope. */
  http?: FastifyPluginAsync;
  /** Starts background work once the bot listens (schedulers, dispatchers). */
  start?: (slack: App) => Promise<void> | void;
  /** Stops background work before the database closes. */
  stop?: () => Promise<void> | void;
  /**
   * What keeps this feature from doing its work while the bot still serves (e.g. Slack refusing
   * the token): /readyz then answers 200 with status `degraded` and this under the feature's key.
   */
  degraded?: () => Record<string, unknown> | undefined;
}

/** The features this build ships, in start order. */
export function createFeatures(ctx: FeatureContext): Feature[] {
  // Loaded first: an invalid manifest stops the start (a ConfigError), and the card needs the list.
  const runbooks = loadRunbooks(ctx.runbooksDir ?? "./runbooks", ctx.config);
  const incidents = createIncidentsFeature(ctx, {
    suggestRunbooks: (incident, subjects) => suggestFor(runbooks, incident, subjects),
    describeEscalation: escalationDescriber(ctx.config),
    severityChanged: severityEscalator(ctx.config),
  });
  const monitoring = createMonitoringFeature(ctx, {
    sink: incidents.sink,
    wake: () => incidents.dispatcher.wake(),
  });
  const previousModels = monitoring.commands?.find((c) => c.name === "models");
  // Escalation pages a tier's schedule through the on-call engine; /mlops oncall <model> is escalation's view.
  let escalationOnCall: Subcommand | undefined;
  const oncall = createOnCallFeature(ctx, {
    previous: () => escalationOnCall,
    wake: () => incidents.dispatcher.wake(),
  });
  const escalation = createEscalationFeature(ctx, {
    incidents,
    onCall: async (schedule, at) => (await oncall.oncall.whoIsOn(schedule, at))?.user ?? null,
    pagers: pagerQueueOf(),
  });
  escalationOnCall = escalation.commands?.find((c) => c.name === "oncall");
  return [
    incidents,
    monitoring,
    createPayloadLogFeature(ctx, {
      registry: monitoring.registry,
      ingest: monitoring.ingest,
      ready: monitoring.ready,
    }),
    createIncidentLogFeature(ctx, { incidents: incidents.incidents }),
    createRunbooksFeature(ctx, { runbooks, incidents }),
    escalation,
    createPagersFeature(ctx, { incidents }),
    oncall,
    createRetrainingFeature(ctx, { incidents, previousModels }),
    createReportsFeature(ctx, {
      registry: monitoring.registry,
      ready: monitoring.ready,
      wake: () => incidents.dispatcher.wake(),
    }),
  ];
}
