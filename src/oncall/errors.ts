/** On-call's errors: a stable `code` the adapters turn into text or a status. */
export class OnCallError extends Error {
  constructor(
    readonly code:
      | "unknown_schedule"
      | "bad_override"
      | "unknown_override"
      | "not_allowed"
      | "already_undone",
    message: string,
  ) {
    super(message);
    this.name = "OnCallError";
  }
}
