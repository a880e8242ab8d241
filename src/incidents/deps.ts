import type { AccessControl } from "../access/index.js";
import { GROUP_LABELS, type MlopsConfig } from "../config/index.js";
import type { Db } from "../db/index.js";
import type { Clock } from "../shared/clock.js";
import type { Logger } from "../shared/logger.js";
import type { NotificationPolicy } from "./alert-model.js";
import { createAlertRepository } from "./alert-repository.js";
import { rankMembers } from "./group-model.js";
import { createMemberRepository } from "./member-repository.js";
import { type Alert, EVENT_KINDS, type Incident, type Silence } from "./model.js";
import type { EscalationDescriber, IncidentNotifier, IncidentSnapshot, RunbookSuggester } from "./ports.js";
import { createIncidentRepository } from "./repository.js";

/** What the incident services need; wired once by the feature. */
export interface IncidentDeps {
  db: Db;
  clock: Clock;
  config: MlopsConfig;
  access: Pick<AccessControl, "can">;
  notifier: IncidentNotifier;
  logger: Logger;
  suggestRunbooks?: RunbookSuggester;
  describeEscalation?: EscalationDescriber;
  /**
   * Called in the transaction that changed an incident's severity by hand: the escalation feature
   * pages the tier the new severity starts at when nobody has acknowledged yet.
   */
  severityChanged?: (tx: Db, incident: Incident, from: Incident["severity"], now: Date) => Promise<void>;
  /** Told, after commit, how long an incident took from opening to each stage it reached. */
  stages?: StageObserver;
}

/** A response stage an incident reaches. */
export type ResponseStage = "detect" | "acknowledge" | "mitigate" | "resolve";

/**
 * Records how long a stage took (the response metrics): detect from the first bad data to the
 * opening; the others from the opening.
 */
export type StageObserver = (stage: ResponseStage, incident: Incident, seconds: number) => void;

/** The notification policy from `alerting` in the config. */
export function policyOf(config: MlopsConfig): NotificationPolicy {
  return {
    groupWaitMs: config.alerting.group_wait,
    groupIntervalMs: config.alerting.group_interval,
    repeatIntervalMs: config.alerting.repeat_interval,
    resolveWithAlert: config.alerting.resolve_with_alert,
    groupBy: config.alerting.group_by,
    resolveAfter: config.alerting.resolve_after,
  };
}

/** How often an incident of `severity` should get a status update (alerting.update_every); undefined: never reminded. */
export function updateEveryOf(config: MlopsConfig, severity: Incident["severity"]): number | undefined {
  return config.alerting.update_every[severity];
}

/** The model's stakeholder channel (status updates are posted there too), if it has one. */
export function stakeholderChannelOf(config: MlopsConfig, model: string): string | undefined {
  return config.models.find((x) => x.slug === model)?.stakeholder_channel;
}

/**
 * What a silence must cover to mute a whole incident: its model, monitor and fingerprint (the
 * group key for a group, so a silence on one member's own fingerprint mutes that member only).
 */
export function incidentMatcher(incident: Incident): { model: string; monitor: string; fingerprint: string } {
  return { model: incident.model, monitor: incident.monitor, fingerprint: incident.fingerprint };
}

/** The channel a model's cards go to. */
export function channelOf(config: MlopsConfig, model: string): string {
  const m = config.models.find((x) => x.slug === model);
  return m?.alert_channel ?? config.workspace.alert_channel;
}

/**
 * Reads everything the card shows, inside the transaction `tx`. Callers that already hold the
 * alert and know the silence (the intake, per signal) pass them to save the reads.
 */
export async function snapshotOf(
  deps: IncidentDeps,
  tx: Db,
  incident: Incident,
  known: { alert?: Alert; silence?: Silence | null } = {},
): Promise<IncidentSnapshot> {
  const alerts = createAlertRepository(tx);
  const members = rankMembers(await createMemberRepository(tx).of(incident.id));
  const alert =
    (known.alert?.id === incident.alertId ? known.alert : undefined) ??
    members.find((m) => m.alert.id === incident.alertId)?.alert ??
    (await alerts.byId(incident.alertId));
  if (!alert) throw new Error(`alert ${incident.alertId} of incident ${incident.id} is missing`);
  const silence =
    incident.state === "resolved"
      ? null
      : known.silence !== undefined
        ? known.silence
        : ((await alerts.silencing(incidentMatcher(incident), deps.clock.now()))[0] ?? null);
  const firing = members.filter((m) => m.state === "firing").map((m) => m.alert.subject);
  return {
    incident,
    alert,
    members,
    grouped: !GROUP_LABELS.every((l) => deps.config.alerting.group_by.includes(l)),
    resolveAfter: deps.config.alerting.resolve_after,
    modelName: deps.config.models.find((m) => m.slug === incident.model)?.name ?? incident.model,
    silence,
    runbooks: deps.suggestRunbooks?.(incident, firing.length ? firing : [incident.subject]) ?? [],
    ...(deps.describeEscalation ? { escalation: await deps.describeEscalation(tx, incident) } : {}),
    ...(incident.state === "acknowledged" ? await acknowledgedFrom(tx, incident) : {}),
  };
}

/** Where the acknowledgement came from when it was not Slack (a pager's provider), for the card. */
async function acknowledgedFrom(tx: Db, incident: Incident): Promise<{ acknowledgedFrom?: string }> {
  const event = await createIncidentRepository(tx).lastEvent(incident.id, EVENT_KINDS.acknowledged);
  const from = event?.detail.answeredFrom;
  return typeof from === "string" ? { acknowledgedFrom: from } : {};
}
