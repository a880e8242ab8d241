import type { KnownBlock } from "@slack/types";
import type { AccessControl } from "../../access/index.js";
import type { AuditLog } from "../../audit/index.js";
import type { MlopsConfig } from "../../config/index.js";

/** Who ran a command, where, and with which words. */
export interface CommandContext {
  userId: string;
  userName: string;
  teamId: string;
  channelId: string;
  /** The words after the subcommand. */
  args: string[];
  /** The full text after `/mlops`. */
  text: string;
  triggerId: string;
}

/** What a subcommand answers: an ephemeral reply unless `inChannel`. */
export interface CommandReply {
  text: string;
  blocks?: KnownBlock[];
  inChannel?: boolean;
}

/** The services commands may call; wired once in the composition root. */
export interface CommandDeps {
  config: MlopsConfig;
  audit: AuditLog;
  access: AccessControl;
}

/** One `/mlops` subcommand. */
export interface Subcommand {
  name: string;
  /** Arguments as shown in help, e.g. `<model> [window]`. */
  usage: string;
  summary: string;
  run(ctx: CommandContext, deps: CommandDeps): Promise<CommandReply> | CommandReply;
}

/**
 * The acknowledgement of a command that needs longer than Slack's 3 s: its answer follows through
 * the command's response_url.
 */
export const COMMAND_WORKING_TEXT = ":hourglass_flowing_sand: Working on it; the answer follows here.";
