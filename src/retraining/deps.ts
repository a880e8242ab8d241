import type { AccessControl } from "../access/index.js";
import { createAuditRepository } from "../audit/index.js";
import type { MlopsConfig, RetrainingConfig } from "../config/index.js";
import type { Db } from "../db/index.js";
import { channelOf, createIncidentRepository, formatRef } from "../incidents/index.js";
import { createModelRepository } from "../models/index.js";
import type { Clock } from "../shared/clock.js";
import type { Logger } from "../shared/logger.js";
import type { AdapterClient } from "./adapters.js";
import { RetrainingError } from "./errors.js";
import { type AdapterCall, approvalStatus, type Candidate } from "./model.js";
import type { CandidateCard, RegistryLookup, RetrainingNotifier, ThreadTarget } from "./ports.js";
import type { RegistryVersion } from "./registry.js";
import { createRetrainingRepository } from "./repository.js";

/** What the retraining services need; wired once by the feature. */
export interface RetrainingDeps {
  db: Db;
  clock: Clock;
  config: MlopsConfig;
  access: Pick<AccessControl, "can">;
  notifier: RetrainingNotifier;
  adapters: AdapterClient;
  logger: Logger;
  /** The bot's base URL as pipelines reach it (for the candidate callback). */
  publicUrl(): string;
  /** Called when adapter calls were queued: run them now rather than at the next tick. */
  kick(): void;
}

/** How the change came in. */
export type RetrainVia = "command" | "button" | "modal" | "api" | "schedule";

/** The model's retraining config; throws when the model has none. */
export function retrainingOf(config: MlopsConfig, model: string): RetrainingConfig {
  const m = config.models.find((x) => x.slug === model);
  if (!m) throw new RetrainingError("not_configured", `No model called \`${model.slice(0, 60)}\`.`);
  if (!m.retraining)
    throw new RetrainingError(
      "not_configured",
      `\`${model}\` has no \`retraining\` section in the config, so it cannot be retrained from here.`,
    );
  return m.retraining;
}

/** The model's display name. */
export function modelNameOf(config: MlopsConfig, model: string): string {
  return config.models.find((m) => m.slug === model)?.name ?? model;
}

/** Where a candidate's thread messages go. */
export function candidateThread(c: Candidate): ThreadTarget {
  return { channel: c.channel, parentId: c.threadOutboxId ?? c.cardOutboxId };
}

/** The default channel of a model's retraining messages when there is no incident. */
export function modelChannel(config: MlopsConfig, model: string): string {
  return channelOf(config, model);
}

/** Reads what the card shows, in `tx`. */
export async function cardOf(deps: RetrainingDeps, tx: Db, candidate: Candidate): Promise<CandidateCard> {
  const repo = createRetrainingRepository(tx);
  const decisions = await repo.decisions(candidate.id);
  const registry = retrainingOf(deps.config, candidate.model).registry
    ? registryLookupOf(await repo.callsOf({ candidateId: candidate.id }))
    : undefined;
  const rollbackable =
    candidate.state === "promoted" &&
    candidate.championVersion !== null &&
    (await championOf(tx, candidate.model)) === candidate.version;
  return {
    ...(registry ? { registry } : {}),
    rollbackable,
    candidate,
    modelName: modelNameOf(deps.config, candidate.model),
    status: approvalStatus(decisions, candidate.approvalsRequired, candidate.requestedBy),
    rejections: decisions
      .filter((d) => d.decision === "reject")
      .map((d) => ({ userId: d.userId, reason: d.reason })),
    now: deps.clock.now(),
  };
}

/** The model's champion as the bot records it (promoted, or from the config), if any. */
export async function championOf(db: Db, slug: string): Promise<string | null> {
  const models = createModelRepository(db);
  const model = await models.bySlug(slug);
  return model ? ((await models.champion(model.id))?.version ?? null) : null;
}

/** Where the newest registry look-up of a candidate stands (undefined: none was made). */
function registryLookupOf(calls: AdapterCall[]): RegistryLookup | undefined {
  const call = calls.filter((c) => c.kind === "registry" && c.payload.op === "describe").at(-1);
  if (!call) return undefined;
  if (call.state === "done" && call.result?.registry)
    return { state: "found", version: call.result.registry as RegistryVersion };
  if (call.state === "failed") return { state: "failed", error: call.lastError ?? "unknown error" };
  return { state: "pending" };
}

/** Who did it, as the audit log names the source. */
function sourceOf(actor: string, via: RetrainVia): "slack" | "api" | "system" {
  if (via === "api") return "api";
  return /^[UW][A-Z0-9]+$/.test(actor) ? "slack" : "system";
}

/**
 * Writes the timeline (when there is an incident) and the audit log (always) for one retraining
 * step, in the caller's transaction.
 */
export async function record(
  deps: RetrainingDeps,
  tx: Db,
  e: {
    incidentId: number | null;
    kind: string;
    actor: string;
    via: RetrainVia;
    target: string;
    outcome?: "ok" | "refused" | "error";
    detail?: Record<string, unknown>;
    outboxId?: number | null;
  },
): Promise<void> {
  if (e.incidentId !== null)
    await createIncidentRepository(tx).addEvent({
      incidentId: e.incidentId,
      at: deps.clock.now(),
      kind: e.kind,
      actor: e.actor,
      via: e.via,
      detail: { target: e.target, ...e.detail },
      outboxId: e.outboxId ?? null,
    });
  await createAuditRepository(tx).record({
    source: sourceOf(e.actor, e.via),
    actor: e.actor,
    action: `retraining.${e.kind}`,
    target: e.target,
    outcome: e.outcome ?? "ok",
    detail: e.detail ?? {},
  });
}

/** `INC-n` or null. */
export function incidentRefOf(id: number | null): string | null {
  return id === null ? null : formatRef(id);
}
