import { sql } from "drizzle-orm";
import type { Sql } from "postgres";
import { Histogram } from "prom-client";
import type { Db } from "../db/index.js";
import type { Feature, FeatureContext } from "../features.js";
import { incidentRoutes } from "../http/incident-routes.js";
import {
  type AlertIntake,
  createAlertIntake,
  createIncidentService,
  createIncidentTicker,
  createOwnerService,
  createSilenceService,
  type EscalationDescriber,
  type Incident,
  type IncidentDeps,
  type IncidentService,
  type IncidentTicker,
  type OwnerService,
  type RunbookSuggester,
  type SilenceService,
  snapshotOf,
} from "../incidents/index.js";
import {
  createOutboxDispatcher,
  createOutboxRepository,
  type DispatcherOptions,
  type OutboxDispatcher,
} from "../outbox/index.js";
import type { AlertSink } from "../shared/alert-signal.js";
import { incidentCommands } from "../slack/incidents/commands.js";
import { registerIncidentListeners } from "../slack/incidents/listeners.js";
import { createSlackIncidentNotifier } from "../slack/incidents/notifier.js";
import { outboxCommand, registerDeadLetterListeners } from "../slack/outbox/dead-letters.js";
import { slackOutboxTransport } from "../slack/outbox-transport.js";
import { type SlackApi, slackApiOf } from "../slack/web-api.js";

/** Tuning for tests and benches; production uses the defaults. */
export interface IncidentsFeatureOptions {
  dispatcher?: DispatcherOptions;
  /** How often held-back firings, reminders and silence expiries are looked at. */
  tickMs?: number;
  suggestRunbooks?: RunbookSuggester;
  /** The card's escalation tier; the escalation feature provides it. */
  describeEscalation?: EscalationDescriber;
  /** What a hand-set severity does to the escalation (the escalation feature's `severityEscalator`). */
  severityChanged?: IncidentDeps["severityChanged"];
}

/** The incidents feature plus the handles other features (monitoring, escalation) and tests use. */
export interface IncidentsFeature extends Feature {
  /** Where monitors and other detectors send their signals. */
  sink: AlertSink;
  intake: AlertIntake;
  incidents: IncidentService;
  silences: SilenceService;
  /** Owners and status updates. */
  owners: OwnerService;
  ticker: IncidentTicker;
  dispatcher: OutboxDispatcher;
  /** Re-renders an incident's card in the caller's transaction (other features' changes show on it). */
  updateCard(tx: Db, incident: Incident): Promise<number>;
}

const NOTIFY_CHANNEL = "mlops_outbox";

/**
 * Alerts become incidents: the alert sink, the incident card and thread with their buttons and
 * modal, the `/mlops` incident and silence commands, the incident API and the Alertmanager
 * webhook, the notification-policy ticker and the outbox dispatcher that delivers every Slack write.
 */
export function createIncidentsFeature(
  ctx: FeatureContext,
  opts: IncidentsFeatureOptions = {},
): IncidentsFeature {
  const { database, clock, logger, config } = ctx;
  const db = database.db;
  let api: SlackApi | undefined;
  const slackApi = () => {
    if (!api) throw new Error("Slack is not connected yet");
    return api;
  };
  const dispatcher = createOutboxDispatcher(
    { db, transport: slackOutboxTransport(slackApi), clock, logger, registry: ctx.metrics.registry },
    // PGlite serves one process (a lock file enforces it), so claims left at start are a dead process's.
    {
      releaseClaimsAtStart: database.kind === "pglite",
      maxAttempts: config.outbox.max_attempts,
      probeEveryMs: config.outbox.probe_every,
      liveness: ctx.liveness,
      ...opts.dispatcher,
    },
  );
  const wake = () => {
    dispatcher.wake();
    if (database.kind === "postgres") {
      db.execute(sql`select pg_notify(${NOTIFY_CHANNEL}, '')`).catch((err: unknown) =>
        logger.debug({ err }, "could not notify other replicas of outbox work"),
      );
    }
  };
  // Response metrics: time from opening to each stage, per model, monitor and severity.
  const stageSeconds = new Histogram({
    name: "mlops_incident_stage_seconds",
    help: "Seconds from an incident's opening to its acknowledgement, mitigation and resolution",
    labelNames: ["stage", "model", "monitor", "severity"],
    buckets: [60, 300, 900, 1800, 3600, 4 * 3600, 12 * 3600, 86_400, 3 * 86_400, 7 * 86_400],
    registers: [ctx.metrics.registry],
  });
  const deps = {
    db,
    clock,
    config,
    access: ctx.access,
    stages: (
      stage: string,
      incident: { model: string; monitor: string; severity: string },
      seconds: number,
    ) =>
      stageSeconds.observe(
        { stage, model: incident.model, monitor: incident.monitor, severity: incident.severity },
        seconds,
      ),
    logger: logger.child({ component: "incidents" }),
    notifier: createSlackIncidentNotifier({ clock, wake }),
    suggestRunbooks: opts.suggestRunbooks,
    describeEscalation: opts.describeEscalation,
    severityChanged: opts.severityChanged,
  };
  const incidents = createIncidentService(deps);
  const silences = createSilenceService(deps);
  const owners = createOwnerService(deps);
  const intake = createAlertIntake(deps);
  const ticker = createIncidentTicker(deps, silences);
  const models = config.models.map((m) => m.slug);
  const deadLetters = {
    config,
    access: ctx.access,
    audit: ctx.audit,
    db,
    outbox: createOutboxRepository(db),
    clock,
    logger: logger.child({ component: "outbox" }),
    paused: () => dispatcher.paused(),
    wake,
  };
  let unlisten: (() => Promise<void>) | undefined;

  return {
    name: "incidents",
    sink: intake.sink,
    intake,
    incidents,
    silences,
    owners,
    ticker,
    dispatcher,
    async updateCard(tx, incident) {
      return deps.notifier.updateCard(tx, await snapshotOf(deps, tx, incident));
    },
    commands: [
      ...incidentCommands({ incidents, silences, owners, maxSilenceMs: config.alerting.max_silence, models }),
      outboxCommand(deadLetters),
    ],
    slack(app) {
      api = slackApiOf(app.client, logger);
      registerIncidentListeners(app, { incidents, silences, owners, api: slackApi, logger });
      registerDeadLetterListeners(app, deadLetters);
    },
    http: incidentRoutes({
      incidents,
      intake,
      outbox: createOutboxRepository(db),
      apiTokens: ctx.apiTokens,
      modelLabel: config.alerting.alertmanager.model_label,
      models,
      now: () => clock.now(),
    }),
    async start(slack) {
      api ??= slackApiOf(slack.client, logger);
      await dispatcher.start();
      ticker.start(opts.tickMs);
      if (database.kind === "postgres") {
        // Other replicas (and CLI tools) queue work too: wake on their NOTIFY instead of the next poll.
        try {
          const client = (db as unknown as { $client: Sql }).$client;
          const sub = await client.listen(NOTIFY_CHANNEL, () => dispatcher.wake());
          unlisten = () => sub.unlisten();
        } catch (err) {
          logger.warn({ err }, "could not LISTEN for outbox work; polling only");
        }
      }
    },
    degraded() {
      const pause = dispatcher.paused();
      if (!pause) return undefined;
      return {
        outbox: "paused",
        slack_error: pause.code,
        since: pause.since.toISOString(),
        fix: pause.fix,
        ...(pause.probe ? { last_probe: pause.probe } : {}),
      };
    },
    async stop() {
      await unlisten?.().catch(() => {});
      await ticker.stop();
      await dispatcher.stop();
    },
  };
}
