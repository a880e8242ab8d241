import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  serial,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";
import { incidents } from "./incidents.js";
import { outbox } from "./outbox.js";

const at = () => timestamp({ withTimezone: true, mode: "date" });

/**
 * `/mlops retrain` requests. At most one is in flight per model and incident (`dedupe_key` is
 * `<model>:<incident id or "none">`, unique while the request is pending or triggered), so a
 * repeated command finds the request already running instead of starting a second pipeline.
 */
export const retrainRequests = pgTable(
  "retrain_requests",
  {
    id: serial().primaryKey(),
    model: text().notNull(),
    incidentId: integer().references(() => incidents.id),
    dedupeKey: text().notNull(),
    requestedBy: text().notNull(),
    reason: text(),
    /** pending (pipeline not called yet) → triggered → reported; or failed. */
    state: text().$type<"pending" | "triggered" | "reported" | "failed">().notNull(),
    /** The thread its messages go to: the incident card's outbox row, or the request's own post. */
    threadOutboxId: bigint({ mode: "number" }).references(() => outbox.id),
    runUrl: text(),
    /** SHA-256 of the one-time token the pipeline reports its candidate with. */
    callbackTokenHash: text(),
    callbackExpiresAt: at(),
    createdAt: at().notNull(),
    updatedAt: at().notNull(),
  },
  (t) => [
    uniqueIndex("retrain_requests_one_active_uq")
      .on(t.dedupeKey)
      .where(sql`${t.state} in ('pending', 'triggered')`),
    index("retrain_requests_model_idx").on(t.model, t.id),
  ],
);

/**
 * Candidate versions reported by pipelines, from approval through canary to promotion. The rules
 * they are judged by are frozen on the row when reported, so a config change does not move a
 * decision in progress.
 */
export const candidates = pgTable(
  "candidates",
  {
    id: serial().primaryKey(),
    model: text().notNull(),
    version: text().notNull(),
    championVersion: text(),
    artifactUri: text().notNull(),
    metrics: jsonb().$type<Record<string, number>>().notNull(),
    championMetrics: jsonb().$type<Record<string, number>>().notNull(),
    businessMetrics: jsonb().$type<Record<string, number>>(),
    dataWindow: jsonb().$type<{ from: string; to: string }>().notNull(),
    runUrl: text(),
    retrainRequestId: integer().references(() => retrainRequests.id),
    incidentId: integer().references(() => incidents.id),
    /** Who asked for the retrain (may approve, but never alone). */
    requestedBy: text(),
    reportedBy: text().notNull(),
    state: text()
      .$type<
        | "pending_approval"
        | "rejected"
        | "expired"
        | "canary_starting"
        | "canary"
        | "promoting"
        | "promoted"
        | "rolling_back"
        | "rolled_back"
        | "failed"
      >()
      .notNull(),
    /** The rules and their verdict at report time (`RuleSnapshot` in src/retraining/model.ts). */
    rules: jsonb().$type<Record<string, unknown>>().notNull(),
    approvalsRequired: integer().notNull(),
    expiresAt: at().notNull(),
    channel: text().notNull(),
    /** Posts the card (parent of its edits); replies hang on `thread_outbox_id`, or on the card. */
    cardOutboxId: bigint({ mode: "number" }).references(() => outbox.id),
    threadOutboxId: bigint({ mode: "number" }).references(() => outbox.id),
    decidedBy: text(),
    decisionNote: text(),
    canaryShare: doublePrecision(),
    canaryStartedAt: at(),
    /** The last live comparison (`CanaryComparison`), and whether it had enough sample for buttons. */
    comparison: jsonb().$type<Record<string, unknown>>(),
    comparedAt: at(),
    comparisonPostedAt: at(),
    createdAt: at().notNull(),
    updatedAt: at().notNull(),
  },
  (t) => [
    uniqueIndex("candidates_model_version_uq").on(t.model, t.version),
    // One candidate in canary (or on its way in or out) per model.
    uniqueIndex("candidates_one_canary_uq")
      .on(t.model)
      .where(sql`${t.state} in ('canary_starting', 'canary', 'promoting', 'rolling_back')`),
    index("candidates_state_idx").on(t.state, t.expiresAt),
  ],
);

/** Approve and reject decisions on candidates: one per person and candidate. */
export const approvals = pgTable(
  "approvals",
  {
    id: serial().primaryKey(),
    candidateId: integer()
      .notNull()
      .references(() => candidates.id),
    userId: text().notNull(),
    decision: text().$type<"approve" | "reject">().notNull(),
    reason: text(),
    at: at().notNull(),
  },
  (t) => [uniqueIndex("approvals_candidate_user_uq").on(t.candidateId, t.userId)],
);

/**
 * Calls to external pipeline and deploy adapters, recorded before they are made and after they
 * return, outside any transaction. A worker claims due rows with a lease (so replicas never call
 * twice at once), retries failures with backoff, and gives up after `max_attempts`. Each call
 * carries its row id as an idempotency key, so a receiver can drop a repeat after a crash.
 */
export const adapterCalls = pgTable(
  "adapter_calls",
  {
    id: bigserial({ mode: "number" }).primaryKey(),
    /**
     * pipeline | canary | promote | rollback | registry (a model registry request) | pager (a page
     * beyond Slack, made by the pagers feature's worker; `model` is the incident's); no SQL change
     */
    kind: text().$type<"pipeline" | "canary" | "promote" | "rollback" | "registry" | "pager">().notNull(),
    model: text().notNull(),
    retrainRequestId: integer().references(() => retrainRequests.id),
    candidateId: integer().references(() => candidates.id),
    payload: jsonb().$type<Record<string, unknown>>().notNull(),
    state: text().$type<"pending" | "calling" | "done" | "failed">().notNull(),
    attempts: integer().notNull().default(0),
    maxAttempts: integer().notNull().default(5),
    availableAt: at().notNull(),
    leaseUntil: at(),
    lastError: text(),
    result: jsonb().$type<Record<string, unknown>>(),
    createdAt: at().notNull(),
    doneAt: at(),
  },
  (t) => [index("adapter_calls_due_idx").on(t.availableAt).where(sql`${t.state} in ('pending', 'calling')`)],
);
