export {
  derivedFeatures,
  embeddingColumns,
  embeddingFeatures,
  isResidualColumn,
  parseEmbeddingColumn,
  RECONSTRUCTION_COLUMN,
  residualColumn,
} from "./derived.js";
export { UnknownModelError } from "./errors.js";
export { activeFeatures, assignSlots, type FeatureSlot, type RegisteredModel, slotCounts } from "./model.js";
export { createModelRepository } from "./repository.js";
export { createModelRegistry, type ModelRegistry } from "./service.js";
