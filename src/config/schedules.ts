/** The `schedules` section of the config: on-call rotations in layers, or an imported iCal file. */
import { z } from "zod";
import { parseDuration } from "../shared/duration.js";
import { timeZoneSchema } from "./time-zone.js";

/** Days of the week as the config writes them, Monday first. */
export const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
/** One of `WEEKDAYS`. */
export type Weekday = (typeof WEEKDAYS)[number];

/** A Slack user id (U…, W…): the person a schedule pages. */
export const slackUserSchema = z
  .string()
  .regex(/^[UW][A-Z0-9]{2,}$/, "expected a Slack user id like U0123 (the person paged)");

/** A time of day `HH:MM` from 00:00 to 23:59, parsed to minutes after midnight. */
export const timeOfDaySchema = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, "expected a time of day HH:MM from 00:00 to 23:59, like 09:00")
  .transform((s) => Number(s.slice(0, 2)) * 60 + Number(s.slice(3)));

const endOfWindowSchema = z
  .string()
  .regex(/^(([01]\d|2[0-3]):[0-5]\d|24:00)$/, "expected a time of day HH:MM from 00:00 to 24:00, like 17:00")
  .transform((s) => Number(s.slice(0, 2)) * 60 + Number(s.slice(3)));

const restrictionSchema = z
  .strictObject({
    days: z
      .array(z.enum(WEEKDAYS))
      .min(1)
      .default([...WEEKDAYS])
      .describe("The days the window starts on (mon … sun); every day when absent"),
    from: timeOfDaySchema.describe("Start of the window, in the layer's time zone"),
    to: endOfWindowSchema.describe(
      "End of the window; at or before `from` means it ends the next day (17:00 → 09:00 is overnight)",
    ),
  })
  .describe("A daily window in which the layer has someone on call (e.g. business hours)");

const layerSchema = z
  .strictObject({
    name: z.string().min(1).max(60).optional().describe("How the layer is shown; `layer <n>` when absent"),
    users: z
      .array(slackUserSchema)
      .min(1, "a layer needs at least one person")
      .describe("The people of the rotation, in order, as Slack user ids"),
    rotation: z.enum(["daily", "weekly"]).describe("Shift length: one day or one week"),
    handoff: timeOfDaySchema.prefault("09:00").describe("When one shift hands over to the next (HH:MM)"),
    start: z.iso
      .date("expected a date like 2026-01-05")
      .describe(
        "The date the first person's first shift begins (at `handoff`); a weekly rotation hands over on this weekday",
      ),
    timezone: timeZoneSchema
      .optional()
      .describe("The zone handoff and restrictions are read in; the schedule's when absent"),
    restrictions: z
      .array(restrictionSchema)
      .min(1)
      .optional()
      .describe("Windows in which this layer is on call (e.g. business hours); always when absent"),
  })
  .describe("One rotation; later layers override earlier ones where they have someone on call");

const icalSourceSchema = z
  .strictObject({
    file: z.string().min(1).optional().describe("Path of the .ics file (relative to the working directory)"),
    url: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe(
        "Where to fetch the .ics from (a secret token in it: write ${ENV_VAR}); fetched at start and every refresh_every, the last good copy kept",
      ),
    refresh_every: z
      .string()
      .regex(/^\d+(s|m|h|d)$/, "expected a duration like 15m or 1h")
      .transform((s) => parseDuration(s))
      .refine((ms) => ms >= 60_000, "expected at least 1m")
      .prefault("1h")
      .describe("How often `url` is fetched again"),
    users: z
      .record(z.string().min(1), slackUserSchema)
      .default({})
      .describe(
        "Who an event names → Slack user id: attendee e-mail addresses or event summaries; a summary that is a user id (U0123 or <@U0123>) needs no entry",
      ),
  })
  .superRefine((s, ctx) => {
    if (!s.file === !s.url)
      ctx.addIssue({
        code: "custom",
        path: s.file ? ["url"] : ["file"],
        message: s.file ? "give either file or url, not both" : "expected file (a path) or url",
      });
  })
  .describe("An external iCalendar file or URL (PagerDuty, Grafana OnCall or Google Calendar export)");

/** One schedule: layers of rotations, or an imported iCal file. */
export const scheduleSchema = z
  .strictObject({
    description: z.string().optional(),
    timezone: timeZoneSchema.default("UTC").describe("The schedule's time zone (layers may set their own)"),
    layers: z.array(layerSchema).min(1, "a schedule needs at least one layer").optional(),
    ical: icalSourceSchema.optional(),
    usergroup: z
      .string()
      .regex(
        /^(S[A-Z0-9]{2,}|[a-z0-9][a-z0-9._-]*)$/,
        "expected a Slack user-group id (S0123) or handle (ds-oncall)",
      )
      .optional()
      .describe(
        "A Slack user group kept to the person on call: its members are set at each handoff and corrected when changed by hand (needs usergroups:write)",
      ),
    remind_before: z
      .union([
        z.literal("off"),
        z
          .string()
          .regex(/^\d+(m|h)$/, "expected a duration like 30m or 2h, or off")
          .transform((s) => parseDuration(s))
          .refine((ms) => ms >= 60_000 && ms <= 86_400_000, "expected 1m to 24h"),
      ])
      .prefault("30m")
      .describe(
        "How long before each handoff the incoming person gets a DM listing the open incidents they inherit; off for none",
      ),
  })
  .superRefine((s, ctx) => {
    if (!s.layers === !s.ical)
      ctx.addIssue({
        code: "custom",
        path: s.layers ? ["ical"] : ["layers"],
        message: s.layers
          ? "a schedule has either layers or ical, not both"
          : "expected layers of rotations, or ical: an iCal file",
      });
  })
  .describe("An on-call schedule");

/** `schedules`: name → schedule. */
export const schedulesSchema = z
  .record(
    z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "expected a schedule name like ds-oncall (a-z, 0-9, -)"),
    scheduleSchema,
  )
  .default({})
  .describe("On-call schedules by name; a tier's `schedule` pages whoever is on call in one");

/** One schedule's validated config. */
export type ScheduleConfig = z.output<typeof scheduleSchema>;
/** One layer's validated config. */
export type LayerConfig = z.output<typeof layerSchema>;
