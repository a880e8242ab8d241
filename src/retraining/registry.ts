/**
 * What the bot asks of a model registry, each as one adapter-call outcome (so the call worker
 * records and retries it like a webhook): describe a candidate version, read the champion alias,
 * and move the alias only from the version the bot expects (compare-and-set), so a hand-made
 * change in the registry is reported, never overwritten.
 */
import type { RegistryConfig } from "../config/index.js";
import type { AdapterOutcome } from "./adapters.js";
import { createMlflowClient, MlflowError, type MlflowRun } from "./mlflow.js";

/** A candidate version as the registry describes it (shown on the card). */
export interface RegistryVersion {
  modelName: string;
  version: string;
  status: string | null;
  source: string | null;
  runId: string | null;
  /** The run page (MLflow's `run_link`, else the tracking UI's run page), or the version page. */
  runUrl: string;
  /** From the `trained_by_tag` on the version, else on its run, else the run's or version's user. */
  trainedBy: string | null;
  /** The run's metrics (latest value of each). */
  metrics: Record<string, number>;
}

/** A move of the champion alias: from the version the bot expects to the one it wants. */
export interface AliasMove {
  /** The version the alias must point at now (null: the alias may be unset). */
  from: string | null;
  to: string;
}

function failure(err: unknown): AdapterOutcome {
  if (err instanceof MlflowError) return { ok: false, retry: err.retry, error: err.message };
  return { ok: false, retry: true, error: (err as Error).message };
}

function tagOf(tags: { key: string; value: string }[] | undefined, key: string): string | null {
  return tags?.find((t) => t.key === key)?.value || null;
}

/** The tracking UI's page of a run, or of the version when there is no run. */
function runUrlOf(cfg: RegistryConfig, version: string, runId: string | null, run: MlflowRun): string {
  const ui = cfg.url.replace(/\/$/, "");
  const experiment = run.info?.experiment_id;
  if (runId && experiment)
    return `${ui}/#/experiments/${encodeURIComponent(experiment)}/runs/${encodeURIComponent(runId)}`;
  return `${ui}/#/models/${encodeURIComponent(cfg.model_name)}/versions/${encodeURIComponent(version)}`;
}

/** A missing version's failure, naming the newest versions the registry has (a typo shows). */
async function missingVersion(
  mlflow: ReturnType<typeof createMlflowClient>,
  err: MlflowError,
): Promise<AdapterOutcome> {
  const newest = await mlflow.newestVersions(5).catch(() => null);
  const hint = newest ? ` (its newest versions: ${newest.join(", ") || "none"})` : "";
  return { ok: false, retry: false, error: `${err.message}${hint}` };
}

/** Looks a reported version up: the version, then its run (metrics, tags). */
export async function describeVersion(
  cfg: RegistryConfig,
  version: string,
  signal?: AbortSignal,
): Promise<AdapterOutcome> {
  const mlflow = createMlflowClient(cfg, signal);
  try {
    const mv = await mlflow.version(version);
    const runId = mv.run_id || null;
    const run = runId ? await mlflow.run(runId) : {};
    const metrics: Record<string, number> = {};
    for (const m of run.data?.metrics ?? [])
      if (typeof m.value === "number" && Number.isFinite(m.value)) metrics[m.key] = m.value;
    const described: RegistryVersion = {
      modelName: cfg.model_name,
      version: mv.version,
      status: mv.status ?? null,
      source: mv.source ?? null,
      runId,
      runUrl: mv.run_link || runUrlOf(cfg, mv.version, runId, run),
      trainedBy:
        tagOf(mv.tags, cfg.trained_by_tag) ??
        tagOf(run.data?.tags, cfg.trained_by_tag) ??
        (run.info?.user_id || mv.user_id || null),
      metrics,
    };
    return { ok: true, result: { registry: described } };
  } catch (err) {
    if (
      err instanceof MlflowError &&
      err.code === "RESOURCE_DOES_NOT_EXIST" &&
      err.message.includes("/model-versions/get")
    )
      return missingVersion(mlflow, err);
    return failure(err);
  }
}

/** Reads the version the champion alias names (null: unset). */
export async function readChampion(cfg: RegistryConfig, signal?: AbortSignal): Promise<AdapterOutcome> {
  try {
    const version = await createMlflowClient(cfg, signal).aliasVersion();
    return { ok: true, result: { alias: cfg.champion_alias, aliasVersion: version } };
  } catch (err) {
    return failure(err);
  }
}

/**
 * Moves the champion alias `from` → `to`. Already at `to` (a retry after a lost answer) is done;
 * anywhere but `from` is a conflict that is not retried: someone moved it by hand.
 */
export async function moveAlias(
  cfg: RegistryConfig,
  move: AliasMove,
  signal?: AbortSignal,
): Promise<AdapterOutcome> {
  const mlflow = createMlflowClient(cfg, signal);
  const result = { alias: cfg.champion_alias, modelName: cfg.model_name, from: move.from, to: move.to };
  try {
    const now = await mlflow.aliasVersion();
    if (now === move.to) return { ok: true, result: { ...result, unchanged: true } };
    if (now !== move.from)
      return {
        ok: false,
        retry: false,
        error: `the registry's alias \`${cfg.champion_alias}\` of ${cfg.model_name} points at ${now ?? "nothing"}, not ${move.from ?? "nothing"} as the bot expects; it was not moved (was it changed by hand?)`,
      };
    await mlflow.setAlias(move.to);
    return { ok: true, result };
  } catch (err) {
    return failure(err);
  }
}
