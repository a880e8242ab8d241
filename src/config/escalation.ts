/** The escalation policy: tiers L1 → L2 → L3 with their groups, schedules, waits and pagers. */

import { z } from "zod";
import { notifySchema } from "./pagers.js";
import { channelSchema, durationSchema, slugSchema } from "./primitives.js";

/** A tier's group: a key of `workspace.user_groups`, or `owners` (the model's owners). */
export const tierGroupSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_-]*$/, "expected a user-group key or 'owners'")
  .describe(
    "Key of workspace.user_groups, 'owners' for the model's owners (L3), or 'none' with a schedule: the tier pages only whoever is on call in the schedule",
  );

/** A tier's schedule: a key of `schedules`; its person on call is paged besides the group. */
export const tierScheduleSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "expected a schedule name like ds-oncall")
  .describe("Key of `schedules`: whoever is on call there gets the tier's DM (docs/oncall.md)");

function escalationTierSchema(d: { group: string; wait: string; dm: boolean }) {
  return z
    .strictObject({
      group: tierGroupSchema.default(d.group),
      wait: durationSchema
        .prefault(d.wait)
        .describe("How long a page of this tier may go unacknowledged before the next step"),
      repeat: z
        .number()
        .int()
        .min(0)
        .max(10)
        .default(0)
        .describe("Page this tier again this many times (each after `wait`) before moving on"),
      dm: z.boolean().default(d.dm).describe("DM each member of the group besides the mention"),
      channel: channelSchema
        .optional()
        .describe("Where this tier is mentioned; the incident's thread when absent"),
      schedule: tierScheduleSchema.optional(),
      notify: notifySchema.optional(),
    })
    .prefault({});
}

/** A per-model override: any field of any tier; the rest comes from `escalation.default`. */
export const escalationTierOverride = z.strictObject({
  group: tierGroupSchema.optional(),
  wait: durationSchema.optional(),
  repeat: z.number().int().min(0).max(10).optional(),
  dm: z.boolean().optional(),
  channel: channelSchema.optional(),
  schedule: tierScheduleSchema.optional(),
  notify: notifySchema.optional(),
});

/** How incidents of one severity escalate: the tier they start at, and tier overrides. */
export const severityPolicySchema = z.strictObject({
  start: z
    .enum(["l1", "l2", "l3"])
    .default("l1")
    .describe(
      "The tier paged when the incident opens (or when its severity is raised to this level while nobody has acknowledged it); l2 pages the data scientists at once",
    ),
  l1: escalationTierOverride.optional(),
  l2: escalationTierOverride.optional(),
  l3: escalationTierOverride.optional(),
  auto: z.boolean().optional(),
  remind_every: durationSchema.optional(),
});

export const escalationSchema = z
  .strictObject({
    default: z
      .strictObject({
        l1: escalationTierSchema({ group: "l1", wait: "15m", dm: false }).describe(
          "Level 1: MLOps operators with runbooks; the incident's card is their first page",
        ),
        l2: escalationTierSchema({ group: "l2", wait: "30m", dm: true }).describe(
          "Level 2: data scientists on incident duty",
        ),
        l3: escalationTierSchema({ group: "owners", wait: "1h", dm: true }).describe(
          "Level 3: the team that built the model; paged only by L2 or the timer",
        ),
        auto: z
          .boolean()
          .default(true)
          .describe("Escalate by itself when a tier does not acknowledge within its wait"),
        remind_every: durationSchema
          .optional()
          .describe("While acknowledged but unresolved, remind the thread this often"),
      })
      .prefault({}),
    models: z
      .record(
        slugSchema,
        z.strictObject({
          l1: escalationTierOverride.optional(),
          l2: escalationTierOverride.optional(),
          l3: escalationTierOverride.optional(),
          auto: z.boolean().optional(),
          remind_every: durationSchema.optional(),
        }),
      )
      .default({})
      .describe("Per-model overrides, keyed by model slug"),
    severity: z
      .strictObject({
        critical: severityPolicySchema.optional(),
        warning: severityPolicySchema.optional(),
        info: severityPolicySchema.optional(),
      })
      .prefault({})
      .describe(
        "Per-severity policy: which tier an incident of that severity starts at and tier overrides (e.g. critical: { start: l2, l2: { wait: 15m } } pages L2 at once and L3 after 15 minutes). Applied over escalation.default; a model's overrides (escalation.models) apply last",
      ),
  })
  .describe("Who is paged when: L1 → L2 → L3, with waits, repeats and DMs");
