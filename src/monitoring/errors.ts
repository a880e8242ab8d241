/** Errors of the monitoring engine, each with a stable code for the adapters. */

/** Too few rows for what was asked (a reference, a window). */
export class NotEnoughDataError extends Error {
  readonly code = "not_enough_data";
}

/** A monitor that needs a reference profile ran before one was built. */
export class NoReferenceError extends Error {
  readonly code = "no_reference";
  constructor(readonly model: string) {
    super(
      `${model} has no reference profile yet: run \`/mlops baseline ${model} <from> <to>\` or POST a labelled reference`,
    );
  }
}

/** A bad request to a monitoring use case (dates, window). */
export class InvalidRequestError extends Error {
  readonly code = "invalid_request";
}
