/** On-call's errors: a stable `code` the adapters turn into text or a status. */
export class OnCallError extends Error {
  constructor(
    readonly code: "unknown_schedule",
    message: string,
  ) {
    super(message);
    this.name = "OnCallError";
  }
}
