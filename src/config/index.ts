export {
  checkBotEnv,
  describeDatabase,
  type Env,
  isLoopbackHost,
  listenHost,
  MIN_API_TOKEN_LENGTH,
  parseEnv,
  type SlackMode,
  slackMode,
} from "./env.js";
export { ConfigError } from "./errors.js";
export { formatPath, loadConfig, parseConfig } from "./load.js";
export {
  type LayerConfig,
  type ScheduleConfig,
  scheduleSchema,
  WEEKDAYS,
  type Weekday,
} from "./schedules.js";
export {
  configSchema,
  GROUP_LABELS,
  type GroupLabel,
  type MlopsConfig,
  type ModelConfig,
  type PermissionAction,
  type RegistryConfig,
  type RetrainingConfig,
} from "./schema.js";
export { isTimeZone } from "./time-zone.js";
