export { type AlertIntake, createAlertIntake, type IntakeOutcome, validateSignals } from "./alert-intake.js";
export {
  alertSignalSchema,
  fingerprintOf,
  heldFiringsDue,
  type NotificationPolicy,
  nextReminderAt,
  onRepeatFiring,
} from "./alert-model.js";
export {
  channelOf,
  type IncidentDeps,
  policyOf,
  snapshotOf,
  stakeholderChannelOf,
  updateEveryOf,
} from "./deps.js";
export { IncidentError, IncidentNotFoundError, InvalidSignalError, SilenceError } from "./errors.js";
export {
  ACTION_PERMISSION,
  type Alert,
  actorLabel,
  EVENT_KINDS,
  formatRef,
  INCIDENT_STATES,
  type Incident,
  type IncidentAction,
  type IncidentEvent,
  type IncidentState,
  isActive,
  OWNER_PERMISSION,
  type OwnerChange,
  parseRef,
  parseStatusUpdate,
  type ResolutionSummary,
  type Silence,
  type StatusUpdate,
  sandboxNames,
  summarizeResolution,
  transition,
  type Via,
} from "./model.js";
export {
  createOwnerService,
  type OwnerRequest,
  type OwnerResult,
  type OwnerService,
} from "./owner-service.js";
export type {
  EscalationDescriber,
  EscalationView,
  IncidentNotifier,
  IncidentSnapshot,
  RunbookSuggester,
  ThreadFile,
  ThreadNote,
} from "./ports.js";
export { createIncidentRepository, type IncidentFilter, type TimelineEntry } from "./repository.js";
export { dataFromOf, followupsOf, reviewFileName, reviewMarkdown } from "./review.js";
export { createIncidentTicker, type IncidentTicker, type TickResult } from "./scheduled.js";
export {
  type ActionRequest,
  type ActionResult,
  createIncidentService,
  type FollowupRequest,
  type IncidentService,
  MAX_FOLLOWUP,
} from "./service.js";
export {
  formatSilenceRef,
  parseSilenceDuration,
  parseSilenceRef,
  parseSilenceTarget,
  type SilenceTarget,
  silenceActive,
  silenceMatches,
} from "./silence-model.js";
export {
  createSilenceService,
  type SilenceRequest,
  type SilenceResult,
  type SilenceService,
} from "./silence-service.js";
