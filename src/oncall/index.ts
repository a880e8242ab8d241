export {
  CALENDAR_REFRESH_CRON,
  type CalendarRefresh,
  type CalendarRefreshDeps,
  createCalendarRefresh,
  FAILING_RETRY_MS,
  type RefreshOutcome,
} from "./calendar-refresh.js";
export { type CalendarRow, createCalendarRepository } from "./calendar-repository.js";
export { OnCallError } from "./errors.js";
export {
  createHandoffReminders,
  HANDOFF_REMINDER_CRON,
  type HandoffReminder,
  type HandoffReminderDeps,
  handoffsIn,
  type InheritedIncident,
} from "./handoff-reminders.js";
export { FEED_HORIZON, scheduleFeed, USER_PROPERTY } from "./ical-export.js";
export { CalendarImportError, calendarLayer, type PeopleMap, personOf } from "./ical-import.js";
export type {
  OnCallAt,
  OnCallPerson,
  OnCallSource,
  Override,
  Schedule,
  ScheduleLayer,
  Shift,
} from "./model.js";
export type { OverrideRow } from "./override-repository.js";
export {
  createOverrideService,
  type OverrideDeps,
  type OverrideRequest,
  type OverrideService,
  scheduleMembers,
} from "./overrides.js";
export type { CalendarAlert, CalendarFetch, CalendarFetcher } from "./ports.js";
export { rotationLayer } from "./rotation.js";
export {
  buildSchedule,
  buildSchedules,
  createOnCallService,
  type NowAndNext,
  noOverrides,
  type OnCallDeps,
  type OnCallService,
  type OverrideSource,
  type RemoteStatus,
} from "./service.js";
export { onCallAt, shiftsBetween } from "./timeline.js";
export {
  createUserGroupSync,
  type GroupChange,
  USERGROUP_SYNC_CRON,
  type UserGroupMembers,
  type UserGroupSyncDeps,
} from "./usergroup-sync.js";
export { parseSpan } from "./when.js";
export { instantOf, offsetAt, wallTime } from "./zoned-time.js";
