/**
 * Handoff reminders: a claimed tick each minute finds the shifts that start `remind_before` from
 * now and asks for a DM to each incoming person listing the incidents they inherit.
 */
import type { MlopsConfig } from "../config/index.js";
import type { Shift } from "./model.js";
import type { OnCallService } from "./service.js";

/** The tick's cron: every minute, so a reminder is at most a minute early. */
export const HANDOFF_REMINDER_CRON = "* * * * *";
/** How wide the window each tick covers: one tick's worth. */
const WINDOW_MS = 60_000;

/** An incident still open when a shift starts, as the reminder lists it. */
export interface InheritedIncident {
  ref: string;
  title: string;
  model: string;
  state: string;
  severity: string;
}

/** One DM to send: `user` takes over `schedule` at `start`. */
export interface HandoffReminder {
  schedule: string;
  user: string;
  start: Date;
  end: Date;
  /** Who hands over; null when nobody was on call before. */
  from: string | null;
  incidents: InheritedIncident[];
}

/** What the reminders need from outside. */
export interface HandoffReminderDeps {
  config: Pick<MlopsConfig, "schedules">;
  oncall: Pick<OnCallService, "names" | "shifts">;
  /** The open (unresolved) incidents now. */
  openIncidents(): Promise<InheritedIncident[]>;
  /** Queues the DM (through the outbox: delivered once, retried, never lost). */
  send(reminder: HandoffReminder): Promise<void>;
}

/** The shifts of one schedule that begin in (from, to] with someone new coming on. */
export function handoffsIn(shifts: readonly Shift[], from: number, to: number): Shift[] {
  return shifts.filter((s, i) => {
    const start = s.start.getTime();
    if (start <= from || start > to || !s.user) return false;
    const before = shifts[i - 1];
    // The same person carrying on (an override of their own shift ending) is no handoff.
    return !(before && before.end.getTime() === start && before.user === s.user);
  });
}

/** Creates the reminder job's work; `run(tickAt)` returns what it queued. */
export function createHandoffReminders(deps: HandoffReminderDeps) {
  return {
    /**
     * Reminds of the handoffs starting in (tickAt + lead − 1 min, tickAt + lead] on every
     * schedule with reminders on. Ticks are claimed, so with any number of replicas each window is
     * looked at once; a tick missed while no replica ran is not made up (see docs/oncall.md).
     */
    async run(tickAt: Date): Promise<HandoffReminder[]> {
      const sent: HandoffReminder[] = [];
      let open: InheritedIncident[] | undefined;
      for (const name of deps.oncall.names()) {
        const lead = deps.config.schedules[name]?.remind_before;
        if (typeof lead !== "number") continue;
        const to = tickAt.getTime() + lead;
        const from = to - WINDOW_MS;
        // An hour back finds who hands over; two weeks ahead finds where the new shift ends.
        const shifts = await deps.oncall.shifts(
          name,
          new Date(from - 3_600_000),
          new Date(to + 14 * 86_400_000),
        );
        for (const s of handoffsIn(shifts, from, to)) {
          open ??= await deps.openIncidents();
          const before = shifts.find((x) => x.end.getTime() === s.start.getTime());
          const reminder: HandoffReminder = {
            schedule: name,
            user: s.user as string,
            start: s.start,
            end: s.end,
            from: before?.user ?? null,
            incidents: open,
          };
          await deps.send(reminder);
          sent.push(reminder);
        }
      }
      return sent;
    },
  };
}
