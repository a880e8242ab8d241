export {
  createOutboxDispatcher,
  type DispatcherOptions,
  fixFor,
  type OutboxDispatcher,
  type OutboxPause,
} from "./dispatcher.js";
export {
  OUTBOX_METHODS,
  type OutboxMessage,
  type OutboxMethod,
  type OutboxRow,
  type Pacing,
  retryDelayMs,
  SLACK_CHANNEL_PACING,
  streamOf,
} from "./model.js";
export type { Delivery, DeliveryOutcome, OutboxTransport } from "./ports.js";
export { createOutboxRepository, type OutboxRepository } from "./repository.js";
