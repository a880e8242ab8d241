/** A configuration problem found before the bot listens; `problems` are one line each. */
export class ConfigError extends Error {
  readonly code = "config_invalid";
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`Invalid configuration in ${source}:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}
