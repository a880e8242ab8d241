import { LogLevel, type Logger as SlackLogger } from "@slack/bolt";
import type { Logger } from "../shared/logger.js";

/** Adapts the pino logger to the logger interface Bolt and the Web API client expect. */
export function boltLogger(logger: Logger): SlackLogger {
  const child = logger.child({ component: "bolt" });
  let level: LogLevel = LogLevel.INFO;
  return {
    debug: (...msg: unknown[]) => child.debug(msg.map(String).join(" ")),
    info: (...msg: unknown[]) => child.info(msg.map(String).join(" ")),
    warn: (...msg: unknown[]) => child.warn(msg.map(String).join(" ")),
    error: (...msg: unknown[]) => child.error(msg.map(String).join(" ")),
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => {},
  };
}
