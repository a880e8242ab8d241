import type { ModelConfig } from "../../config/index.js";
import type { RegisteredModel } from "../../models/index.js";
import type { EmbeddingSampleRepository } from "../embedding-samples.js";
import type { Finding, MonitorOutcome, RunTrigger } from "../model.js";
import type { ModelServiceClient } from "../ports.js";
import type { ReferenceProfile } from "../profile.js";
import type { WindowRepository } from "../window-repository.js";

/** What a monitor reads: the model, its config, its reference profile, the window reductions, the time. */
export interface MonitorContext {
  model: RegisteredModel;
  config: ModelConfig;
  profile: { id: number; profile: ReferenceProfile } | null;
  windows: WindowRepository;
  now: Date;
  services: ModelServiceClient;
  trigger: RunTrigger;
  /**
   * The segment this run reads (its feature is constant inside it, so drift skips that feature),
   * and how many segments the run covers (one Bonferroni family when `bonferroni` is on).
   */
  segment?: { key: string; feature: string; family: number };
  /** The newest earlier run of this monitor that was not skipped or failed. */
  previous: { findings: Finding[]; metrics: Record<string, unknown> } | undefined;
  /** The embedding sample (the multivariate monitor's domain classifier); absent: no classifier. */
  samples?: Pick<EmbeddingSampleRepository, "recent" | "pinned">;
}

/** The window ending now of the given length. */
export function windowEndingNow(ctx: MonitorContext, lengthMs: number): { from: Date; to: Date } {
  return { from: new Date(ctx.now.getTime() - lengthMs), to: new Date(ctx.now.getTime() + 1) };
}

/** A run that measured nothing, with the reason shown in `/mlops status` and `monitor_runs`. */
export function skipped(
  window: MonitorOutcome["window"],
  note: string,
  counts: { rows?: number; labelledRows?: number } = {},
): MonitorOutcome {
  return {
    status: "skipped",
    window,
    rows: counts.rows ?? 0,
    ...(counts.labelledRows !== undefined ? { labelledRows: counts.labelledRows } : {}),
    metrics: {},
    rule: "",
    findings: [],
    note,
  };
}
