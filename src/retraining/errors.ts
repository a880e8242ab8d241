/** A retraining request that cannot be honoured; `message` is for the person or the API caller. */
export class RetrainingError extends Error {
  constructor(
    readonly code:
      | "not_configured"
      | "unknown_candidate"
      | "unknown_incident"
      | "invalid_candidate"
      | "duplicate_version"
      | "conflict",
    message: string,
    /** For invalid reports: the field at fault (`metrics.f1`). */
    readonly field?: string,
  ) {
    super(message);
  }
}
