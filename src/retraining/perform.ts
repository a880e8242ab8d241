/**
 * Makes one recorded adapter call: a pipeline or deploy adapter, a registry request, or both for a
 * promote / roll back of a model with a registry. The registry's alias moves first and the deploy
 * adapter follows; what an attempt finished is kept as the call's progress, so a retry never does
 * a step twice, and a deploy that fails for good moves the alias back: nothing is left half-done.
 */
import type { AdapterConfig, AdapterOutcome } from "./adapters.js";
import { type RetrainingDeps, retrainingOf } from "./deps.js";
import type { AdapterCall } from "./model.js";
import { type AliasMove, describeVersion, moveAlias, readChampion } from "./registry.js";

/** An attempt's outcome and, for a failed one, the steps it finished (kept for the next attempt). */
export type CallOutcome = AdapterOutcome & { progress?: Record<string, unknown> };

/** The step of a registry call. */
export type RegistryOp = "describe" | "check";

/** The event name adapters receive. */
export function eventOf(call: AdapterCall): string {
  return call.kind === "pipeline" ? "retrain.requested" : `deploy.${call.kind}`;
}

/** The alias move a promote or roll back needs (none: a canary's roll back, the alias never moved). */
export function aliasMoveOf(call: AdapterCall): AliasMove | null {
  const champion = typeof call.payload.champion_version === "string" ? call.payload.champion_version : null;
  const challenger = String(call.payload.challenger_version ?? "");
  if (call.kind === "promote") return { from: champion, to: challenger };
  if (call.kind === "rollback" && call.payload.after_promotion === true && champion)
    return { from: challenger, to: champion };
  return null;
}

/** Makes the call; never throws. */
export async function performCall(
  deps: RetrainingDeps,
  call: AdapterCall,
  secrets: Record<string, string>,
): Promise<CallOutcome> {
  const rules = retrainingOf(deps.config, call.model);
  const registry = rules.registry;
  if (call.kind === "registry") {
    if (!registry) return { ok: false, retry: false, error: `${call.model} has no registry configured` };
    const op = call.payload.op as RegistryOp;
    return op === "describe"
      ? describeVersion(registry, String(call.payload.version))
      : readChampion(registry);
  }
  const adapter: AdapterConfig | undefined = call.kind === "pipeline" ? rules.pipeline : rules.deploy;
  const deploy = () =>
    adapter
      ? deps.adapters.call(adapter, { id: call.id, event: eventOf(call), payload: call.payload, secrets })
      : Promise.resolve<AdapterOutcome>({ ok: true, result: { skipped: "no deploy adapter configured" } });
  const move = registry ? aliasMoveOf(call) : null;
  if (!registry || !move) return deploy();

  const progress = { ...((call.result?.progress as Record<string, unknown> | undefined) ?? {}) };
  if (!progress.alias) {
    const moved = await moveAlias(registry, move);
    if (!moved.ok) return { ...moved, progress };
    progress.alias = moved.result;
  }
  const deployed = await deploy();
  if (deployed.ok) return { ok: true, result: { ...deployed.result, registry: progress.alias } };
  const lastAttempt = !deployed.retry || call.attempts >= call.maxAttempts;
  if (!lastAttempt) return { ...deployed, progress };
  // The deploy failed for good: put the alias back where it was, so registry and bot agree.
  const back = move.from ? await moveAlias(registry, { from: move.to, to: move.from }) : null;
  const undone = back?.ok
    ? `the registry's alias was moved back to ${move.from}`
    : `the registry's alias could not be moved back to ${move.from ?? "nothing"}${back && !back.ok ? ` (${back.error})` : ""}; it points at ${move.to}`;
  return { ok: false, retry: false, error: `${deployed.error}; ${undone}` };
}

/** How long one call may take, for the claim's lease: a registry call makes up to four requests. */
export function callBudgetMs(rules: ReturnType<typeof retrainingOf>): number {
  return Math.max(rules.pipeline.timeout, (rules.deploy?.timeout ?? 0) + 4 * (rules.registry?.timeout ?? 0));
}
