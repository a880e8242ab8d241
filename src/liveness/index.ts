export { MISSED_BEATS, type ProcessIdentity } from "./model.js";
export { claimerAlive, claimerDead, claimerUnknown, createProcessRepository } from "./repository.js";
export { createLiveness, type Liveness } from "./service.js";
