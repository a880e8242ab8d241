import pino from "pino";
import pretty from "pino-pretty";

/** The logger type used everywhere (pino's, which fastify also uses). */
export type Logger = pino.Logger;

/**
 * Paths that must never reach a log line: Slack and API credentials, signatures and the bodies
 * that could carry them.
 */
export const REDACT_PATHS = [
  "req.headers.authorization",
  'req.headers["x-slack-signature"]',
  "headers.authorization",
  "token",
  "*.token",
  "signingSecret",
  "*.signingSecret",
  "botToken",
  "*.botToken",
  "appToken",
  "*.appToken",
];

/**
 * A human-readable destination for a terminal: one coloured line per record, written synchronously
 * in this thread (no worker), with the same redaction applied before it formats anything.
 */
export function prettyDestination(): pino.DestinationStream {
  return pretty({ colorize: true, translateTime: "SYS:HH:MM:ss", ignore: "pid,hostname", sync: true });
}

/** Creates the process logger. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, redact: { paths: REDACT_PATHS, censor: "[redacted]" } }, destination);
}
