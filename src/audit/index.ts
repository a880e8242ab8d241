export { type AuditEntry, type AuditRepository, createAuditRepository } from "./repository.js";
