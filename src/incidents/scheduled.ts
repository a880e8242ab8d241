import { heldFiringsDue, nextReminderAt } from "./alert-model.js";
import { createAlertRepository } from "./alert-repository.js";
import { type IncidentDeps, incidentMatcher, policyOf, updateEveryOf } from "./deps.js";
import { rankMembers } from "./group-model.js";
import { createMemberRepository } from "./member-repository.js";
import { EVENT_KINDS } from "./model.js";
import { createIncidentRepository } from "./repository.js";
import type { SilenceService } from "./silence-service.js";

/** Incidents handled per transaction by one tick. */
const BATCH = 50;

/** What one tick did. */
export interface TickResult {
  firingsReported: number;
  reminders: number;
  /** Owners reminded that a status update is due. */
  updateReminders: number;
  silencesExpired: number;
}

/**
 * The time-driven part of the notification policy. Deadlines are columns (`pending_firings` with
 * `last_note_at`, `next_reminder_at`, `update_due_at`, `silences.ends_at`), not timers, so a restart or a second
 * replica loses nothing; rows are taken with SKIP LOCKED so replicas never handle one twice.
 */
export function createIncidentTicker(deps: IncidentDeps, silences: SilenceService) {
  const { db, clock, notifier } = deps;
  const policy = policyOf(deps.config);

  /** Replies with the firings group_interval held back. */
  async function reportHeldFirings(): Promise<number> {
    return db.transaction(async (tx) => {
      const incidents = createIncidentRepository(tx);
      const alerts = createAlertRepository(tx);
      const now = clock.now();
      const due = await incidents.dueFirings(now, policy.groupIntervalMs, BATCH);
      for (const incident of due) {
        if (!heldFiringsDue(incident, now, policy)) continue;
        const alert = await alerts.byId(incident.alertId);
        if (!alert) continue;
        const muted = (await alerts.silencing(incidentMatcher(incident), now)).length > 0;
        const outboxId = muted
          ? null
          : await notifier.reply(tx, incident, {
              kind: "firing_again",
              firings: incident.pendingFirings,
              alert,
            });
        await incidents.update(incident.id, { pendingFirings: 0, ...(muted ? {} : { lastNoteAt: now }) });
        if (!muted) {
          await incidents.addEvent({
            incidentId: incident.id,
            at: now,
            kind: EVENT_KINDS.firingsReported,
            actor: "system",
            via: "schedule",
            detail: { firings: incident.pendingFirings },
            outboxId,
          });
        }
      }
      return due.length;
    });
  }

  /** Reminds in the thread while an unresolved incident's alert keeps firing (repeat_interval). */
  async function remind(): Promise<number> {
    return db.transaction(async (tx) => {
      const incidents = createIncidentRepository(tx);
      const alerts = createAlertRepository(tx);
      const now = clock.now();
      const due = await incidents.dueReminders(now, BATCH);
      let sent = 0;
      for (const incident of due) {
        // A group is still firing while any member is; the reminder names the lead firing one.
        const alert = rankMembers(await createMemberRepository(tx).of(incident.id)).find(
          (m) => m.state === "firing" && m.alert.state === "firing",
        )?.alert;
        if (!alert) {
          await incidents.update(incident.id, { nextReminderAt: null });
          continue;
        }
        const next = nextReminderAt(now, policy);
        if ((await alerts.silencing(incidentMatcher(incident), now)).length > 0) {
          await incidents.update(incident.id, { nextReminderAt: next });
          continue;
        }
        const outboxId = await notifier.reply(tx, incident, {
          kind: "reminder",
          alert,
          firingForMs: now.getTime() - incident.openedAt.getTime(),
        });
        await incidents.update(incident.id, { nextReminderAt: next });
        await incidents.addEvent({
          incidentId: incident.id,
          at: now,
          kind: EVENT_KINDS.reminded,
          actor: "system",
          via: "schedule",
          detail: { state: incident.state, firings: incident.alertCount },
          outboxId,
        });
        sent++;
      }
      return sent;
    });
  }

  /**
   * Reminds an unresolved incident's owner in the thread when no status update was posted within
   * its severity's rhythm (alerting.update_every), then waits one rhythm again. Silences do not
   * hold this back: they mute the alert, not the people working on it.
   */
  async function remindOwners(): Promise<number> {
    return db.transaction(async (tx) => {
      const incidents = createIncidentRepository(tx);
      const now = clock.now();
      const due = await incidents.dueUpdates(now, BATCH);
      for (const incident of due) {
        const every = updateEveryOf(deps.config, incident.severity);
        const owner = incident.assignee as string;
        if (every === undefined) {
          await incidents.update(incident.id, { updateDueAt: null });
          continue;
        }
        const outboxId = await notifier.reply(tx, incident, {
          kind: "update_due",
          incidentId: incident.id,
          owner,
          severity: incident.severity,
          everyMs: every,
          lastUpdateAt: incident.lastUpdateAt,
        });
        await incidents.update(incident.id, { updateDueAt: new Date(now.getTime() + every) });
        await incidents.addEvent({
          incidentId: incident.id,
          at: now,
          kind: EVENT_KINDS.updateReminded,
          actor: "system",
          via: "schedule",
          detail: { owner, every_ms: every, last_update_at: incident.lastUpdateAt?.toISOString() ?? null },
          outboxId,
        });
      }
      return due.length;
    });
  }

  /** One pass over everything due. */
  async function tick(): Promise<TickResult> {
    const result = {
      firingsReported: await reportHeldFirings(),
      reminders: await remind(),
      updateReminders: await remindOwners(),
      silencesExpired: await silences.noteExpiries(BATCH),
    };
    if (result.firingsReported || result.reminders || result.updateReminders) notifier.wake();
    return result;
  }

  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  return {
    tick,
    /** Ticks every `intervalMs` until stopped; a failed tick is logged and retried next time. */
    start(intervalMs = 5_000) {
      if (timer) return;
      timer = setInterval(() => {
        if (running) return;
        running = tick()
          .catch((err: unknown) => deps.logger.error({ err }, "incident tick failed; retrying next time"))
          .finally(() => {
            running = undefined;
          });
      }, intervalMs);
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
}

/** The incident ticker. */
export type IncidentTicker = ReturnType<typeof createIncidentTicker>;
