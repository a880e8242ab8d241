export { type Env, parseEnv, type SlackMode, slackMode } from "./env.js";
export { ConfigError } from "./errors.js";
export { formatPath, loadConfig, parseConfig } from "./load.js";
export {
  configSchema,
  type MlopsConfig,
  type ModelConfig,
  type PermissionAction,
  type RetrainingConfig,
} from "./schema.js";
