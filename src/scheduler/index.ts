export { latestTick } from "./model.js";
export { createScheduler, type Job, type Scheduler, STALE_AFTER_MS, type TickResult } from "./service.js";
