/** The small value schemas every part of the config uses: durations, cron, channels, principals, slugs. */

import { validate as isValidCron } from "node-cron";
import { z } from "zod";
import { parseDuration } from "../shared/duration.js";

/** A duration such as `30s`, `5m`, `1h`, `7d`; parsed to milliseconds. */
export const durationSchema = z
  .string()
  .regex(/^\d+(ms|s|m|h|d|w)$/, "expected a duration like 30s, 5m, 1h or 7d")
  .transform((s) => parseDuration(s))
  .describe("A duration: a whole number followed by ms, s, m, h, d or w");

/** A five- or six-field cron expression, checked by node-cron. */
export const cronSchema = z
  .string()
  .refine((s) => isValidCron(s), "expected a cron expression like '*/5 * * * *'")
  .describe("Cron schedule (node-cron syntax, five or six fields)");

/** A Slack channel: a name (with or without #) or an id (C…, G…). */
export const channelSchema = z
  .string()
  .regex(
    /^(#?[a-z0-9][a-z0-9._-]{0,79}|[CG][A-Z0-9]{2,})$/,
    "expected a channel name like #ml-alerts or an id like C0123",
  )
  .transform((s) => s.replace(/^#/, ""));

/** Who may do something: a key of `workspace.user_groups`, `owners` (the model's L3 group), or a Slack user id. */
export const principalSchema = z
  .string()
  .regex(/^([a-z][a-z0-9_-]*|[UW][A-Z0-9]{2,})$/, "expected a user-group key, 'owners' or a Slack user id");

export const slugSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "expected a lowercase slug like fraud-detector (a-z, 0-9, -)");

export const fraction = z.number().min(0).max(1);

export const httpUrl = z.url({ protocol: /^https?$/ });
