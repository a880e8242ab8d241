export { pageContext, runbookRuns } from "./context.js";
export { EscalationError } from "./errors.js";
export {
  answered,
  decideDeadline,
  ESCALATION_EVENTS,
  type EscalationPolicy,
  type EscalationRow,
  escalateRefusal,
  formatWait,
  highestTier,
  policyFor,
  startTierOf,
  TIERS,
  type Tier,
  type TierPolicy,
  tierLabel,
  tierOf,
} from "./model.js";
export type {
  EscalationNotifier,
  OnCallLookup,
  PageContext,
  PageDirectory,
  PageMessage,
  PagerQueue,
} from "./ports.js";
export { createEscalationRepository, type EscalationRepository, type PageRow } from "./repository.js";
export { createEscalationTicker, type EscalationTicker, type EscalationTickResult } from "./scheduled.js";
export {
  createEscalationService,
  type EscalateRequest,
  type EscalateResult,
  type EscalationDeps,
  type EscalationService,
  escalationDescriber,
  groupRefOf,
  type OnCall,
  policyOfRow,
  severityEscalator,
} from "./service.js";
