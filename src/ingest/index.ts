export { InvalidBatchError } from "./errors.js";
export { MAX_BATCH_ROWS, type StoredRow, toStoredRow } from "./model.js";
export type { IngestedBatch, IngestListener } from "./ports.js";
export { createIngestService, type IngestService } from "./service.js";
export { validatePredictionBatch } from "./validate.js";
