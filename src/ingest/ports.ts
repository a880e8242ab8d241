import type { RegisteredModel } from "../models/index.js";
import type { VectorColumn } from "./vector.js";

/** What one stored batch looked like, for listeners that react in real time. */
export interface IngestedBatch {
  model: RegisteredModel;
  rows: number;
  stored: number;
  /** Timestamps (ms) of the predictions under the model's confidence threshold. */
  lowConfidenceTs: number[];
}

/** Told after each stored batch (the real-time confidence monitor listens here). */
export interface IngestListener {
  afterBatch(batch: IngestedBatch): void;
}

/**
 * Writes derived scores (the multivariate reconstruction error, embedding distances and
 * projections) into rows before they are stored. `vectors` are the batch's embedding vectors,
 * row-aligned with `rows`.
 */
export interface RowScorer {
  score(
    model: RegisteredModel,
    rows: { n: (number | null)[]; k: readonly (string | null)[] }[],
    vectors?: readonly VectorColumn[],
  ): Promise<void>;
}
