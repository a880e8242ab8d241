/**
 * What a finished registry call changes, in the worker's transaction: a candidate's look-up
 * updates its card; the champion check at start compares the registry's alias with the bot's
 * champion and, when they differ, reports it (log line, the model's channel, audit) and changes
 * neither side: which one is right is a person's call.
 */
import type { Db } from "../db/index.js";
import {
  candidateThread,
  cardOf,
  championOf,
  modelChannel,
  modelNameOf,
  type RetrainingDeps,
  record,
  retrainingOf,
} from "./deps.js";
import type { AdapterCall, Candidate } from "./model.js";
import type { RegistryVersion } from "./registry.js";
import { createRetrainingRepository } from "./repository.js";

/** Queues the champion check of every model with a registry (skipping one already queued). */
export async function queueChampionChecks(deps: RetrainingDeps): Promise<number> {
  const now = deps.clock.now();
  let queued = 0;
  for (const m of deps.config.models) {
    if (!m.retraining?.registry) continue;
    const done = await deps.db.transaction(async (tx) => {
      const repo = createRetrainingRepository(tx);
      if (await repo.openRegistryCheck(m.slug)) return false;
      await repo.enqueueCall({
        kind: "registry",
        model: m.slug,
        payload: { op: "check" },
        state: "pending",
        availableAt: now,
        createdAt: now,
      });
      return true;
    });
    if (done) queued++;
  }
  return queued;
}

/** Queues the registry look-up of a reported candidate, in the caller's transaction. */
export async function queueVersionLookup(tx: Db, c: Candidate, now: Date): Promise<void> {
  await createRetrainingRepository(tx).enqueueCall({
    kind: "registry",
    model: c.model,
    candidateId: c.id,
    payload: { op: "describe", version: c.version },
    state: "pending",
    availableAt: now,
    createdAt: now,
  });
}

/** Applies a registry call that succeeded. */
export async function registryDone(
  deps: RetrainingDeps,
  tx: Db,
  call: AdapterCall,
  result: Record<string, unknown>,
): Promise<void> {
  if (call.payload.op === "check") return championChecked(deps, tx, call, result);
  if (!call.candidateId) return;
  const c = await createRetrainingRepository(tx).candidate(call.candidateId, true);
  if (!c) return;
  const found = result.registry as RegistryVersion;
  const id = await deps.notifier.updateCard(tx, await cardOf(deps, tx, c));
  await record(deps, tx, {
    incidentId: c.incidentId,
    kind: "registry_version_found",
    actor: "system",
    via: "schedule",
    target: `${c.model}@${c.version}`,
    detail: {
      registry: found.modelName,
      trainedBy: found.trainedBy,
      runUrl: found.runUrl,
      attempts: call.attempts,
    },
    outboxId: id,
  });
}

/** Applies a registry call that failed for good. */
export async function registryFailed(
  deps: RetrainingDeps,
  tx: Db,
  call: AdapterCall,
  error: string,
): Promise<void> {
  const { notifier } = deps;
  if (call.payload.op === "check") {
    deps.logger.warn({ model: call.model, err: error }, "could not read the registry's champion alias");
    const id = await notifier.post(tx, modelChannel(deps.config, call.model), {
      kind: "registry_unreadable",
      model: call.model,
      error,
    });
    await record(deps, tx, {
      incidentId: null,
      kind: "registry_check_failed",
      actor: "system",
      via: "schedule",
      target: call.model,
      outcome: "error",
      detail: { error: error.slice(0, 300) },
      outboxId: id,
    });
    return;
  }
  if (!call.candidateId) return;
  const c = await createRetrainingRepository(tx).candidate(call.candidateId, true);
  if (!c) return;
  const id = await notifier.reply(tx, candidateThread(c), {
    kind: "registry_lookup_failed",
    candidate: c,
    error,
  });
  await notifier.updateCard(tx, await cardOf(deps, tx, c));
  await record(deps, tx, {
    incidentId: c.incidentId,
    kind: "registry_lookup_failed",
    actor: "system",
    via: "schedule",
    target: `${c.model}@${c.version}`,
    outcome: "error",
    detail: { error: error.slice(0, 300), attempts: call.attempts },
    outboxId: id,
  });
}

async function championChecked(
  deps: RetrainingDeps,
  tx: Db,
  call: AdapterCall,
  result: Record<string, unknown>,
): Promise<void> {
  const registry = retrainingOf(deps.config, call.model).registry;
  if (!registry) return;
  const botChampion = await championOf(tx, call.model);
  const registryVersion = typeof result.aliasVersion === "string" ? result.aliasVersion : null;
  if (registryVersion === botChampion) return;
  // Neither side is overwritten: the bot cannot know whether the registry was changed on purpose.
  deps.logger.warn(
    {
      model: call.model,
      registry: registry.model_name,
      alias: registry.champion_alias,
      registryVersion,
      botChampion,
    },
    "the registry and the bot disagree on the champion; neither was changed",
  );
  const id = await deps.notifier.post(tx, modelChannel(deps.config, call.model), {
    kind: "registry_disagrees",
    model: call.model,
    modelName: modelNameOf(deps.config, call.model),
    alias: registry.champion_alias,
    registryVersion,
    botChampion,
  });
  await record(deps, tx, {
    incidentId: null,
    kind: "registry_disagrees",
    actor: "system",
    via: "schedule",
    target: call.model,
    outcome: "error",
    detail: { registry: registry.model_name, alias: registry.champion_alias, registryVersion, botChampion },
    outboxId: id,
  });
}
