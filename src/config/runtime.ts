/** How the bot runs: storage and retention, the outbox, reports, ingest limits, liveness. */

import { isIP } from "node:net";
import { z } from "zod";
import { cronSchema, durationSchema } from "./primitives.js";
import { timeZoneSchema } from "./time-zone.js";

export const storageSchema = z
  .strictObject({
    retention: z
      .strictObject({
        raw_predictions: durationSchema
          .default(7 * 86_400_000)
          .describe("How long raw prediction rows are kept (dropped a day partition at a time)"),
        minute_rollups: durationSchema
          .default(7 * 86_400_000)
          .describe("How long per-minute rollups are kept (the edges of monitor windows)"),
        rollups: durationSchema.default(400 * 86_400_000).describe("How long hourly rollups are kept"),
        monitor_runs: durationSchema.default(90 * 86_400_000),
        outbox: durationSchema.default(90 * 86_400_000).describe("Delivered (or superseded) outbox rows"),
        runbook_runs: durationSchema.default(90 * 86_400_000).describe("Finished runbook runs"),
        cron_claims: durationSchema.default(90 * 86_400_000),
        audit_log: durationSchema.default(400 * 86_400_000),
        incident_events: durationSchema
          .default(400 * 86_400_000)
          .describe("Timeline events of incidents resolved longer ago than this"),
      })
      .prefault({})
      .describe("How long each kind of data is kept; one daily claimed job enforces it"),
    rollups: z
      .strictObject({
        max_categories: z
          .number()
          .int()
          .min(10)
          .max(10_000)
          .default(1000)
          .describe("Distinct values kept per categorical feature and bucket; the rest count as (other)"),
      })
      .prefault({}),
    labels: z
      .strictObject({
        early_wait: durationSchema
          .default(3_600_000)
          .describe("How long a label waits for its prediction before it is counted as unmatched"),
      })
      .prefault({}),
    partitions_ahead_days: z.number().int().min(1).max(31).default(3).describe("Daily partitions made ahead"),
  })
  .describe("Rollups, partitions and retention");

export const outboxSchema = z
  .strictObject({
    max_attempts: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(10)
      .describe(
        "Attempts (5xx, network errors, timeouts, 4xx other than 429) before a Slack write becomes a dead letter; 429s and pauses do not count",
      ),
    probe_every: durationSchema
      .default(30_000)
      .describe("While Slack refuses the bot token: how often auth.test is tried before delivery resumes"),
  })
  .describe("Delivery of Slack writes (the outbox)");

export const reportsSchema = z
  .strictObject({
    weekly: z
      .strictObject({
        enabled: z.boolean().default(true),
        schedule: cronSchema
          .default("0 9 * * 1")
          .describe("When the digest is posted (default Monday 09:00)"),
        timezone: timeZoneSchema
          .optional()
          .describe("The zone the schedule is read in; workspace.timezone when absent"),
        period: durationSchema.prefault("7d").describe("How far back each digest looks"),
      })
      .prefault({})
      .describe("The weekly digest posted to each model's channel"),
    top_fingerprints: z
      .number()
      .int()
      .min(1)
      .max(20)
      .default(5)
      .describe("How many of the noisiest fingerprints a report lists"),
  })
  .describe("`/mlops report` and the weekly digest");

export const ingestSchema = z
  .strictObject({
    cloudevents: z
      .strictObject({
        pair_window: durationSchema
          .refine((ms) => ms >= 1000, "expected a window of at least 1s")
          .prefault("5m")
          .describe(
            "How long the first half of a request/response pair waits for the other; after that it is counted as unpaired",
          ),
        keep: durationSchema
          .prefault("7d")
          .describe(
            "How long paired ids (to recognise redeliveries) and unpaired halves (for the report) are kept",
          ),
        allow_from: z
          .array(
            z.string().refine((entry) => {
              const [address = "", prefix, extra] = entry.split("/");
              const family = isIP(address);
              if (family === 0 || extra !== undefined) return false;
              if (prefix === undefined) return true;
              const bits = Number(prefix);
              return /^\d{1,3}$/.test(prefix) && bits <= (family === 4 ? 32 : 128);
            }, "expected an IP address or CIDR range like 10.0.0.0/8"),
          )
          .default([])
          .describe(
            "Client addresses (IPs or CIDR ranges, as TRUST_PROXY decides the client address) admitted without a bearer token, for loggers that cannot send one",
          ),
      })
      .prefault({}),
  })
  .describe("Ingest paths other than the JSON batch API");

export const livenessSchema = z
  .strictObject({
    heartbeat: durationSchema
      .refine((ms) => ms >= 100, "expected a heartbeat of at least 100ms")
      .prefault("5s")
      .describe(
        "How often each process records that it is alive; its claims (cron ticks, outbox rows, runbook runs) are freed once it misses two",
      ),
  })
  .describe("Process heartbeats that tie claims to the life of the process holding them");
