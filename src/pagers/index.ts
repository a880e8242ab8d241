export {
  actionForState,
  PAGER_ACTIONS,
  PAGER_EVENTS,
  type PagerAction,
  type PagerCallPayload,
  pagerLabel,
  pagerRetryDelayMs,
  parseRetryAfter,
  providerLabel,
} from "./model.js";
export { buildRequest, type PagerOutcome, type PagerRequest, sendRequest } from "./providers.js";
export { createPagerRepository, type PagerCall } from "./repository.js";
export {
  type AnswerOutcome,
  createPagerService,
  type PagerDeps,
  type PagerService,
  pagerQueue,
} from "./service.js";
export {
  OPSGENIE_SECRET_HEADER,
  type PagerAnswer,
  parseAnswer,
  REPLAY_WINDOW_MS,
  safeEqual,
  verifyAnswer,
} from "./webhooks.js";
export { createPagerWorker, type PagerWorker } from "./worker.js";
