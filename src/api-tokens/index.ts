export { generateToken, hashToken, TOKEN_PREFIX } from "./model.js";
export { createApiTokenRepository } from "./repository.js";
export { type ApiCaller, ApiTokenError, type ApiTokenService, createApiTokenService } from "./service.js";
