export {
  type Database,
  type Db,
  MIGRATIONS_FOLDER,
  openDatabase,
  openPglite,
  openPostgres,
} from "./client.js";
export { DataDirInUseError } from "./data-dir-lock.js";
export * as schema from "./schema/index.js";
export { isDatabaseUnavailable } from "./unavailable.js";
