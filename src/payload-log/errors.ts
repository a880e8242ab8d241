/** A logged event the bot cannot take (bad CloudEvent, unmapped service, body that does not fit the mapping); nothing was stored. */
export class InvalidEventError extends Error {
  readonly code = "invalid_event";
}
