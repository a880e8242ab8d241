export { allows, BOOTSTRAP_NAME, hashToken, TOKEN_PREFIX, TOKEN_SCOPES, type TokenScope } from "./model.js";
export {
  type ApiCaller,
  ApiTokenError,
  type ApiTokenService,
  createApiTokenService,
  LAST_USED_FLUSH_MS,
} from "./service.js";
