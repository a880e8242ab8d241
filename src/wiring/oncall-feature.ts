/**
 * On-call schedules: the engine over the config's schedules, their iCalendar feeds, and
 * `/mlops oncall [model|schedule]` (schedules here, models through escalation's command).
 */

import type { Feature, FeatureContext } from "../features.js";
import { scheduleRoutes } from "../http/schedule-routes.js";
import { createIncidentRepository, formatRef, sandboxNames } from "../incidents/index.js";
import {
  CALENDAR_REFRESH_CRON,
  type CalendarFetcher,
  type CalendarRefresh,
  createCalendarRefresh,
  createHandoffReminders,
  createOnCallService,
  createOverrideService,
  createUserGroupSync,
  HANDOFF_REMINDER_CRON,
  type OnCallService,
  USERGROUP_SYNC_CRON,
} from "../oncall/index.js";
import { createOutboxRepository } from "../outbox/index.js";
import { createScheduler, type Scheduler } from "../scheduler/index.js";
import type { Subcommand } from "../slack/commands/types.js";
import { onCallCommand, viewerTimeZone } from "../slack/oncall/commands.js";
import { registerCoverListeners } from "../slack/oncall/cover-listeners.js";
import { outboxHandoffSender } from "../slack/oncall/handoff-dm.js";
import { registerOverrideModal } from "../slack/oncall/override-modal.js";
import { slackUserGroupMembers } from "../slack/oncall/usergroups.js";
import { type SlackApi, SlackApiError, slackApiOf } from "../slack/web-api.js";

/** The largest calendar a schedule URL may answer with. */
const MAX_CALENDAR_BYTES = 5 * 1024 * 1024;

/**
 * GET a calendar URL: 10 s at most, 2xx (or 304 to an If-None-Match) only, at most 5 MB. The
 * errors say what went wrong without the URL, which may carry a secret token.
 */
export const fetchCalendarText: CalendarFetcher = async (url, etag) => {
  let res: Response;
  try {
    res = await fetch(url, {
      headers: { accept: "text/calendar, */*;q=0.5", ...(etag ? { "if-none-match": etag } : {}) },
      signal: AbortSignal.timeout(10_000),
    });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    throw new Error(
      e.name === "TimeoutError" ? "timed out after 10 s" : `unreachable (${e.cause?.code ?? e.message})`,
    );
  }
  if (res.status === 304 && etag) return { notModified: true };
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  const text = await res.text();
  if (text.length > MAX_CALENDAR_BYTES) throw new Error(`larger than ${MAX_CALENDAR_BYTES} bytes`);
  return { text, etag: res.headers.get("etag") };
};

/** How often each replica loads the stored copies of URL schedules another replica fetched. */
const CALENDAR_SYNC_MS = 30_000;

/** The on-call feature plus its service, for the escalation path and tests. */
export interface OnCallFeature extends Feature {
  oncall: OnCallService;
  /** Runs the claimed on-call jobs (`oncall:handoff-reminders`, `oncall:calendar-refresh`, …). */
  scheduler: Scheduler;
  /** URL schedules: the claimed refresh and this replica's load of the stored copies. */
  calendars: CalendarRefresh;
}

/**
 * Builds the on-call feature; `previous` gives the `oncall` subcommand it extends (escalation's,
 * for models; built after this feature, whose engine escalation pages through). Reading an
 * imported schedule's file happens here, so a bad one stops the start.
 */
export function createOnCallFeature(
  ctx: FeatureContext,
  deps: {
    previous?: () => Subcommand | undefined;
    /** Wakes the outbox dispatcher after a DM is queued. */
    wake?: () => void;
    /** Names this replica's claims (tests running two in one process). */
    instanceId?: string;
    /** Fetches URL schedules; a plain GET when absent. */
    fetchCalendar?: CalendarFetcher;
  } = {},
): OnCallFeature {
  const names = sandboxNames(ctx.config);
  let api: SlackApi | undefined;
  const overrides = createOverrideService({
    db: ctx.database.db,
    config: ctx.config,
    clock: ctx.clock,
    access: ctx.access,
    audit: ctx.audit,
    isUser: async (user) => {
      if (!api) return true;
      try {
        await api.call("users.info", { user });
        return true;
      } catch (err) {
        // Only Slack saying "no such user" refuses; an outage should not block taking a shift.
        return !(err instanceof SlackApiError && err.slackError === "user_not_found");
      }
    },
  });
  const oncall = createOnCallService({
    overrides: overrides.source(),
    config: ctx.config,
    clock: ctx.clock,
    // The sandbox's made-up people by name; with real Slack the feed shows user ids.
    displayName: (user) => names.get(user),
  });
  const incidentsRepo = createIncidentRepository(ctx.database.db);
  const reminders = createHandoffReminders({
    config: ctx.config,
    oncall,
    openIncidents: async () =>
      (await incidentsRepo.list({ states: ["open", "acknowledged", "mitigated"], limit: 100 })).map((i) => ({
        ref: formatRef(i.id),
        title: i.title,
        model: i.model,
        state: i.state,
        severity: i.severity,
      })),
    send: outboxHandoffSender(ctx.database.db, ctx.clock, () => deps.wake?.()),
  });
  const scheduler = createScheduler({
    db: ctx.database.db,
    clock: ctx.clock,
    logger: ctx.logger.child({ component: "oncall-scheduler" }),
    instanceId: deps.instanceId,
    liveness: deps.instanceId ? undefined : ctx.liveness,
  });
  // Only when some schedule reminds: a deployment (or a test bot) without reminders claims no tick for them.
  if (Object.values(ctx.config.schedules).some((s) => typeof s.remind_before === "number"))
    scheduler.add({
      name: "oncall:handoff-reminders",
      cron: HANDOFF_REMINDER_CRON,
      run: async (tickAt) => {
        const sent = await reminders.run(tickAt);
        if (sent.length) ctx.logger.info({ tickAt, reminders: sent.length }, "handoff reminders queued");
      },
    });
  const logger = ctx.logger.child({ component: "oncall" });
  const calendars = createCalendarRefresh({
    db: ctx.database.db,
    config: ctx.config,
    logger,
    oncall,
    fetchCalendar: deps.fetchCalendar ?? fetchCalendarText,
    alert: async (tx, text) => {
      await createOutboxRepository(tx).enqueue(
        { method: "chat.postMessage", channel: ctx.config.workspace.alert_channel, payload: { text } },
        ctx.clock.now(),
      );
      deps.wake?.();
    },
  });
  if (calendars.any)
    scheduler.add({
      name: "oncall:calendar-refresh",
      cron: CALENDAR_REFRESH_CRON,
      run: (t) => calendars.run(t),
    });
  let syncTimer: NodeJS.Timeout | undefined;
  const groupSync = createUserGroupSync({
    config: ctx.config,
    oncall,
    groups: slackUserGroupMembers(() => api),
    changed: async (change) => {
      if (change.kind === "drift") {
        // Someone edited the group by hand (or it changed while Slack was out): put it back, say so.
        logger.warn(
          change,
          "a schedule's user group had been changed by hand; set back to the person on call",
        );
        await ctx.audit.record({
          source: "system",
          actor: null,
          action: "oncall.usergroup.drift",
          target: change.group,
          outcome: "ok",
          detail: { ...change },
        });
      } else logger.info(change, "user group handed over");
    },
  });
  if (Object.values(ctx.config.schedules).some((s) => s.usergroup))
    scheduler.add({
      name: "oncall:usergroup-sync",
      cron: USERGROUP_SYNC_CRON,
      run: (tickAt) => groupSync.run(tickAt),
    });
  return {
    name: "oncall",
    oncall,
    scheduler,
    calendars,
    http: scheduleRoutes({ oncall, apiTokens: ctx.apiTokens }),
    commands: [
      onCallCommand({
        oncall,
        previous: () => deps.previous?.(),
        clock: ctx.clock,
        slackApi: () => api,
        fallbackTz: ctx.config.workspace.timezone,
        overrides,
      }),
    ],
    slack(app) {
      api = slackApiOf(app.client, ctx.logger);
      registerCoverListeners(app, {
        db: ctx.database.db,
        clock: ctx.clock,
        logger,
        overrides,
        schedules: oncall.names(),
        channel: ctx.config.workspace.alert_channel,
        wake: () => deps.wake?.(),
      });
      registerOverrideModal(app, {
        db: ctx.database.db,
        clock: ctx.clock,
        logger,
        audit: ctx.audit,
        overrides,
        api: () => {
          if (!api) throw new Error("Slack is not connected yet");
          return api;
        },
        viewerTz: async (user) => (await viewerTimeZone(api, user)) ?? ctx.config.workspace.timezone,
        wake: () => deps.wake?.(),
      });
    },
    async start() {
      if (calendars.any) {
        // The stored copies first, then this minute's tick (claimed: with several replicas starting
        // together one fetches), then a reload now and then of what other replicas fetched.
        await calendars
          .sync()
          .catch((err: unknown) => logger.warn({ err }, "could not load stored calendars"));
        void scheduler
          .tick("oncall:calendar-refresh")
          .catch((err: unknown) => logger.warn({ err }, "first calendar refresh failed"));
        syncTimer = setInterval(
          () => void calendars.sync().catch((err: unknown) => logger.warn({ err }, "calendar sync failed")),
          CALENDAR_SYNC_MS,
        );
        syncTimer.unref();
      }
      scheduler.start();
    },
    async stop() {
      if (syncTimer) clearInterval(syncTimer);
      await scheduler.stop();
    },
    degraded() {
      const failing = oncall.remoteStatus().filter((s) => s.staleSince);
      if (!failing.length) return undefined;
      return {
        schedules: Object.fromEntries(
          failing.map((s) => [
            s.schedule,
            { error: s.error?.message, staleSince: s.staleSince, fetchedAt: s.fetchedAt },
          ]),
        ),
      };
    },
  };
}
