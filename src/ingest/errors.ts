/** A batch that failed validation; nothing of it was stored (the HTTP API answers 400). */
export class InvalidBatchError extends Error {
  readonly code = "invalid_batch";
  constructor(
    message: string,
    readonly row: number | null,
    readonly field: string,
  ) {
    super(message);
  }
}
