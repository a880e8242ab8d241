/** Base of the incident feature's errors: a stable `code` the adapters turn into text or a 4xx. */
export class IncidentError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** The HTTP status an API answer should carry. */
    readonly status: number = 400,
  ) {
    super(message);
    this.name = "IncidentError";
  }
}

/** No incident with that reference. */
export class IncidentNotFoundError extends IncidentError {
  constructor(ref: string) {
    super("incident_not_found", `There is no incident ${ref}.`, 404);
  }
}

/** Signals that fail validation; nothing of the batch was written. */
export class InvalidSignalError extends IncidentError {
  constructor(
    message: string,
    readonly issues: { index: number; path: string; message: string }[],
  ) {
    super("invalid_signal", message, 400);
  }
}

/** A silence that cannot be set or ended as asked. */
export class SilenceError extends IncidentError {
  constructor(code: "invalid_silence" | "silence_not_found", message: string) {
    super(code, message, code === "silence_not_found" ? 404 : 400);
  }
}
