export { type ArmSummary, studentTTwoSidedP, summarize, twoProportionZTest, welchTTest } from "./ab-stats.js";
export {
  type AdapterClient,
  type AdapterConfig,
  type AdapterOutcome,
  type AdapterRequest,
  createAdapterClient,
  SIGNATURE_HEADER,
  signWebhook,
  TIMESTAMP_HEADER,
} from "./adapters.js";
export { type CallWorker, createCallWorker } from "./calls.js";
export { type ArmStats, type ArmTest, type CanaryComparison, compareArms, fmtP } from "./canary.js";
export type { RetrainingDeps, RetrainVia } from "./deps.js";
export { RetrainingError } from "./errors.js";
export {
  type ApprovalStatus,
  approvalStatus,
  type Candidate,
  type CandidateState,
  evaluateCandidate,
  formatRequestRef,
  type MetricCheck,
  type RetrainRequest,
  type RuleSnapshot,
} from "./model.js";
export type {
  AliasMoved,
  CandidateCard,
  RegistryLookup,
  RetrainingNote,
  RetrainingNotifier,
  ThreadTarget,
} from "./ports.js";
export type { RegistryVersion } from "./registry.js";
export { queueChampionChecks } from "./registry-effects.js";
export { createRetrainingRepository } from "./repository.js";
export {
  createRolloutService,
  type FinishOutcome,
  type ModelRollout,
  type RolloutService,
} from "./rollout.js";
export { createRetrainingTicker, type RetrainingTicker } from "./scheduled.js";
export {
  type ApiCaller,
  createRetrainingService,
  type DecisionOutcome,
  type RetrainingService,
  type RetrainOutcome,
} from "./service.js";
