/** A model slug that is not in the registry (the HTTP API answers 404). */
export class UnknownModelError extends Error {
  readonly code = "unknown_model";
  constructor(readonly slug: string) {
    super(`no model called ${JSON.stringify(slug.slice(0, 80))}`);
  }
}
