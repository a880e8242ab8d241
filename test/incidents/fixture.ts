import { createAccessControl, type GroupDirectory } from "../../src/access/index.js";
import type { MlopsConfig } from "../../src/config/index.js";
import type { Database } from "../../src/db/index.js";
import {
  createAlertIntake,
  createIncidentService,
  createIncidentTicker,
  createSilenceService,
  type IncidentDeps,
} from "../../src/incidents/index.js";
import { createOutboxRepository } from "../../src/outbox/index.js";
import type { AlertSignal } from "../../src/shared/alert-signal.js";
import type { Clock } from "../../src/shared/clock.js";
import { createSlackIncidentNotifier } from "../../src/slack/incidents/notifier.js";
import { oneIncidentPerFinding } from "../helpers/bot.js";
import { testLogger } from "../helpers/db.js";

/** A clock the test moves by hand. */
export function manualClock(start = "2030-01-01T12:00:00Z"): Clock & { advance(ms: number): void } {
  let now = new Date(start).getTime();
  return {
    now: () => new Date(now),
    advance(ms) {
      now += ms;
    },
  };
}

/** Group membership as the demo config's sandbox people have it (the GroupDirectory port). */
export function demoDirectory(config: MlopsConfig): GroupDirectory {
  return {
    async members(group) {
      const key = Object.entries(config.workspace.user_groups).find(
        ([, g]) => g.handle === group.handle,
      )?.[0];
      return config.sandbox.users.filter((u) => key && u.groups.includes(key)).map((u) => u.id);
    },
  };
}

/**
 * The demo config with `alerting` overridden. These fixtures give each test its own subject in a
 * shared database, so they open one incident per finding (`group_by` with every label) unless a
 * test asks for grouping; the grouping tests pass the default `[model, monitor]` themselves.
 */
export function configWith(alerting: Partial<MlopsConfig["alerting"]> = {}): MlopsConfig {
  const config = oneIncidentPerFinding();
  return { ...config, alerting: { ...config.alerting, ...alerting } };
}

/** The incident services on a real database, writing real outbox rows (no dispatcher). */
export function incidentServices(database: Database, config: MlopsConfig, clock: Clock) {
  let wakes = 0;
  const deps: IncidentDeps = {
    db: database.db,
    clock,
    config,
    access: createAccessControl(config, demoDirectory(config)),
    notifier: createSlackIncidentNotifier({ clock, wake: () => wakes++ }),
    logger: testLogger,
  };
  const silences = createSilenceService(deps);
  return {
    deps,
    intake: createAlertIntake(deps),
    incidents: createIncidentService(deps),
    silences,
    ticker: createIncidentTicker(deps, silences),
    outbox: createOutboxRepository(database.db),
    wakes: () => wakes,
  };
}

let subjectSeq = 0;

/** A fresh subject, so each test has its own fingerprint in a shared database. */
export function freshSubject(prefix = "feature"): string {
  return `${prefix}_${++subjectSeq}_${Math.random().toString(36).slice(2, 7)}`;
}

/** A drift finding on the demo model, firing unless told otherwise. */
export function driftSignal(clock: Clock, over: Partial<AlertSignal> = {}): AlertSignal {
  return {
    source: "monitor",
    model: "fraud-detector",
    modelVersion: "v1",
    monitor: "drift",
    subject: "amount",
    status: "firing",
    severity: "warning",
    title: "Drift in amount: PSI 0.34",
    summary: "The distribution of `amount` moved away from the reference.",
    metrics: { psi: 0.34, threshold: 0.2 },
    rule: "PSI >= 0.2 (fixed threshold)",
    observedAt: clock.now(),
    ...over,
  };
}
