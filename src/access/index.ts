export type { GroupDirectory, GroupRef } from "./ports.js";
export {
  type AccessControl,
  type AccessDecision,
  createAccessControl,
  describePrincipals,
} from "./service.js";
