export { AUDIT_FLUSH_MS } from "./batcher.js";
export {
  type AuditEntry,
  type AuditLog,
  type AuditRepository,
  createAuditLog,
  createAuditRepository,
} from "./repository.js";
