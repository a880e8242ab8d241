/** The `pagers` section of the config (PagerDuty, Opsgenie, a signed webhook) and a tier's `notify` rules. */
import { z } from "zod";
import { parseDuration } from "../shared/duration.js";
import { slackUserSchema } from "./schedules.js";

const httpUrl = z.url({ protocol: /^https?$/ });
const secret = (what: string) =>
  z.string().min(16, "use a secret of at least 16 characters").describe(`${what}; write \${ENV_VAR}`);

/** Provider user (PagerDuty user id, Opsgenie user name or email) → the Slack user who acts for them. */
const usersSchema = z
  .record(z.string().min(1), slackUserSchema)
  .default({})
  .describe(
    "Who answered in the provider, as a Slack user: PagerDuty user id (PXXXXXX) or Opsgenie user (email) → Slack user id",
  );

const pagerdutySchema = z.strictObject({
  type: z.literal("pagerduty"),
  routing_key: z
    .string()
    .min(8, "expected an Events API v2 integration (routing) key")
    .describe("Events API v2 integration key of the PagerDuty service; write ${ENV_VAR}"),
  webhook_secret: secret("Secret of the v3 webhook subscription (X-PagerDuty-Signature)").optional(),
  api_url: httpUrl.default("https://events.pagerduty.com").describe("Events API base URL"),
  users: usersSchema,
});

const opsgenieSchema = z.strictObject({
  type: z.literal("opsgenie"),
  api_key: z
    .string()
    .min(8, "expected an Opsgenie API integration key")
    .describe("GenieKey; write ${ENV_VAR}"),
  api_url: httpUrl
    .default("https://api.opsgenie.com")
    .describe("https://api.opsgenie.com (US) or https://api.eu.opsgenie.com (EU)"),
  webhook_secret: secret(
    "Shared secret Opsgenie's outgoing webhook sends in the X-Mlops-Webhook-Secret header",
  ).optional(),
  responders: z
    .array(z.strictObject({ type: z.enum(["team", "user", "escalation", "schedule"]), name: z.string() }))
    .default([])
    .describe("Who Opsgenie notifies (the alert's responders)"),
  users: usersSchema,
});

const webhookSchema = z.strictObject({
  type: z.literal("webhook"),
  url: httpUrl.describe("Receives a JSON POST signed like the retraining webhooks (X-Mlops-Signature)"),
  secret: secret("HMAC key of outgoing calls and of answers posted back"),
  users: usersSchema,
});

/** One pager: where pages beyond Slack go. */
export const pagerSchema = z.discriminatedUnion("type", [pagerdutySchema, opsgenieSchema, webhookSchema]);

/** `pagers`: name → pager. */
export const pagersSchema = z
  .record(
    z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "expected a pager name like pd or pd-phone"),
    pagerSchema,
  )
  .default({})
  .describe("Pagers beyond Slack (docs/pagers.md): PagerDuty, Opsgenie or a signed webhook, by name");

/** One notification rule of a tier: page `pager` when the tier has gone unanswered for `after`. */
export const notifyRuleSchema = z.strictObject({
  pager: z.string().describe("Key of `pagers`"),
  after: z
    .string()
    .regex(/^\d+(ms|s|m|h|d|w)$/, "expected a duration like 0m, 5m or 1h")
    .prefault("0m")
    .transform((s) => parseDuration(s))
    .describe("How long after the Slack page, if still unacknowledged"),
});

/** A tier's `notify` list. */
export const notifySchema = z
  .array(notifyRuleSchema)
  .max(10)
  .describe(
    "Pages beyond Slack after this tier's Slack page, e.g. [{pager: pd, after: 0m}, {pager: pd-phone, after: 5m}]",
  );

/** One configured pager. */
export type PagerConfig = z.output<typeof pagerSchema>;

/** One person's own rules: how the on-call is reached beyond Slack when a tier pages them through a schedule. */
const personSchema = z.strictObject({
  notify: notifySchema.describe(
    "Pages beyond Slack to this person when a tier pages them as the on-call of its schedule, e.g. [{pager: pd-dana, after: 0m}, {pager: phone, after: 5m}]",
  ),
});

/** `oncall`: per-person notification rules. */
export const oncallSchema = z
  .strictObject({
    people: z
      .record(slackUserSchema, personSchema)
      .default({})
      .describe(
        "Per-person rules by Slack user id: applied, besides the tier's own `notify`, when a tier with a `schedule` pages that person",
      ),
  })
  .describe("On-call people's own notification rules (docs/pagers.md)");
