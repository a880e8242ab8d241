import { closest, escapeMrkdwn, tokenize } from "../../shared/text.js";
import { unknownCommandBlocks } from "../blocks/help.js";
import { helpCommand } from "./help.js";
import { modelsCommand } from "./models.js";
import type { CommandContext, CommandDeps, CommandReply, Subcommand } from "./types.js";
import { whoamiCommand } from "./whoami.js";

/** The parsed `/mlops` text: which subcommand and its words. */
export interface ParsedCommand {
  name: string;
  args: string[];
}

/** Splits `/mlops` text into subcommand and arguments; empty text means help. */
export function parseCommandText(text: string): ParsedCommand {
  const words = tokenize(text.trim());
  const [first, ...args] = words;
  return { name: (first ?? "help").toLowerCase(), args };
}

/** Routes `/mlops` subcommands. Later features add theirs to the list passed in. */
export function createCommandRouter(extra: readonly Subcommand[] = []) {
  const list: Subcommand[] = [];
  // A feature may replace a built-in subcommand of the same name (monitoring's `models` adds health).
  const builtIn = [helpCommand(() => list), modelsCommand, whoamiCommand];
  // Among features, a later one replaces an earlier one's subcommand of the same name (retraining's
  // `models` extends monitoring's), so each name is listed and routed once.
  const extras = extra.filter((e, i) => !extra.slice(i + 1).some((later) => later.name === e.name));
  list.push(...builtIn.filter((b) => !extras.some((e) => e.name === b.name)), ...extras);
  const byName = new Map(list.map((c) => [c.name, c]));

  return {
    subcommands: list as readonly Subcommand[],
    /** Runs the subcommand named in `text`; an unknown one gets a suggestion, never an exception. */
    async dispatch(
      text: string,
      base: Omit<CommandContext, "args" | "text">,
      deps: CommandDeps,
    ): Promise<{ reply: CommandReply; name: string; known: boolean }> {
      const parsed = parseCommandText(text);
      const command = byName.get(parsed.name);
      if (!command) {
        const suggestion = closest(parsed.name, [...byName.keys()]);
        const shown = escapeMrkdwn(parsed.name.slice(0, 40));
        return {
          name: parsed.name,
          known: false,
          reply: {
            text: `Unknown command \`${shown}\`.${suggestion ? ` Did you mean \`/mlops ${suggestion}\`?` : ""} Try \`/mlops help\`.`,
            blocks: unknownCommandBlocks(shown, suggestion),
          },
        };
      }
      const reply = await command.run({ ...base, args: parsed.args, text }, deps);
      return { reply, name: command.name, known: true };
    },
  };
}

/** The `/mlops` router. */
export type CommandRouter = ReturnType<typeof createCommandRouter>;
