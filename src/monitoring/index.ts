export { createDeadmanSwitch, type DeadmanCheck, type DeadmanSwitch, TRAFFIC_SUBJECT } from "./deadman.js";
export {
  createEmbeddingSampleRepository,
  type EmbeddingSampleRepository,
} from "./embedding-samples.js";
export { InvalidRequestError, NoReferenceError, NotEnoughDataError } from "./errors.js";
export { createIngestScorer } from "./ingest-scorer.js";
export {
  configuredMonitors,
  DEADMAN_MONITOR,
  type Finding,
  MONITOR_KINDS,
  type MonitorKind,
  type MonitorOutcome,
  type MonitorRun,
  type RunTrigger,
} from "./model.js";
export type { AlertSink, ModelServiceClient, ServiceResponse } from "./ports.js";
export type { ReferenceProfile } from "./profile.js";
export { createRealtimeConfidence } from "./realtime.js";
export { createReferenceService, type ReferenceService, type StoredProfile } from "./reference.js";
export { createMonitoringRepository, type MonitoringRepository } from "./repository.js";
export { createRollupWindowRepository } from "./rollup-window.js";
export { createMonitoringService, type MonitoringDeps, type MonitoringService } from "./service.js";
export { fetchModelServiceClient } from "./service-client.js";
export {
  createRawWindowRepository,
  type WindowRepository,
  type WindowSource,
} from "./window-repository.js";
