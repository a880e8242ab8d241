import type { RegisteredModel } from "../models/index.js";

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

/** Writes derived scores (multivariate reconstruction error) into rows before they are stored. */
export interface RowScorer {
  score(
    model: RegisteredModel,
    rows: { n: (number | null)[]; k: readonly (string | null)[] }[],
  ): Promise<void>;
}
