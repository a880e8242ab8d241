export { hashToken, TOKEN_PREFIX } from "./model.js";
export { type ApiCaller, ApiTokenError, type ApiTokenService, createApiTokenService } from "./service.js";
