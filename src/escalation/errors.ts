/** Escalation's errors: a stable `code` the adapters turn into text. */
export class EscalationError extends Error {
  constructor(
    readonly code: "unknown_model",
    message: string,
  ) {
    super(message);
    this.name = "EscalationError";
  }
}
