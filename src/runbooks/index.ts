export { childProcessRunner, HeadTailBuffer } from "./child-process.js";
export {
  DEFAULT_LIMITS,
  type PreparedRun,
  type RunbookDeps,
  type RunbookLimits,
  type RunRequest,
  type StartOutcome,
} from "./deps.js";
export { RunbookError, RunbookManifestError } from "./errors.js";
export { loadRunbooks, MANIFEST_FILE } from "./loader.js";
export {
  expandArgv,
  type IncidentFacts,
  manifestSchema,
  matches,
  type ParamSpec,
  type ParamValue,
  paramEnvName,
  parseAssignments,
  RUN_STATUSES,
  RUNBOOK_EVENTS,
  type Runbook,
  type RunbookManifest,
  type RunbookRun,
  type RunStatus,
  resolveParams,
  suggestFor,
} from "./model.js";
export type { CommandRunner, Execution, ExecutionResult, RunbookNotifier, RunPlace } from "./ports.js";
export { createRunbookRepository, type RunbookRepository } from "./repository.js";
export { createRunbookService, type RunbookService } from "./service.js";
