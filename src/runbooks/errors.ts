import { ConfigError } from "../config/index.js";

/** A runbook request that cannot be done as asked; the message is for the person (Slack mrkdwn). */
export class RunbookError extends Error {
  constructor(
    readonly code:
      | "runbook_not_found"
      | "runbook_invalid_params"
      | "runbook_not_applicable"
      | "runbook_refused"
      | "runbook_already_running",
    message: string,
    /** Per parameter, what is wrong with it (invalid params only). */
    readonly problems: Record<string, string> = {},
  ) {
    super(message);
    this.name = "RunbookError";
  }
}

/** An invalid `runbook.yaml`: a configuration error, so start-up stops (exit 78) naming file and key. */
export class RunbookManifestError extends ConfigError {
  constructor(problems: string[]) {
    super("runbooks", problems);
    this.name = "RunbookManifestError";
  }
}
