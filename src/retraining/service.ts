import { createApprovalService } from "./approvals.js";
import type { RetrainingDeps } from "./deps.js";
import { createRequestService } from "./requests.js";

export { type DecisionOutcome, deployPayload } from "./approvals.js";
export { type ApiCaller, hashCallbackToken, type RetrainOutcome } from "./requests.js";

/** The retraining use cases people and pipelines call: requests, reports and decisions. */
export function createRetrainingService(deps: RetrainingDeps) {
  return { ...createRequestService(deps), ...createApprovalService(deps) };
}

/** The retraining service. */
export type RetrainingService = ReturnType<typeof createRetrainingService>;
