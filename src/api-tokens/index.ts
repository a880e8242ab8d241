export {
  allows,
  BOOTSTRAP_NAME,
  generateToken,
  hashToken,
  RUN_TOKEN_PREFIX,
  TOKEN_PREFIX,
  TOKEN_SCOPES,
  type TokenScope,
} from "./model.js";
export { createApiTokenRepository } from "./repository.js";
export {
  type ApiCaller,
  ApiTokenError,
  type ApiTokenService,
  createApiTokenService,
  LAST_USED_FLUSH_MS,
} from "./service.js";
