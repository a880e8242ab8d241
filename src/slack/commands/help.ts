import { helpBlocks, subcommandHelpBlocks } from "../blocks/help.js";
import type { CommandReply, Subcommand } from "./types.js";

/** `/mlops help [command]`: every subcommand with one line each, or one in detail. */
export function helpCommand(all: () => readonly Subcommand[]): Subcommand {
  return {
    name: "help",
    usage: "[command]",
    summary: "List the commands, or show how to use one",
    run(ctx): CommandReply {
      const list = all();
      const wanted = ctx.args[0]?.toLowerCase();
      const one = wanted ? list.find((c) => c.name === wanted) : undefined;
      if (one)
        return { text: `/mlops ${one.name} ${one.usage}: ${one.summary}`, blocks: subcommandHelpBlocks(one) };
      return {
        text: `mlops-bot commands: ${list.map((c) => c.name).join(", ")}`,
        blocks: helpBlocks(list, wanted),
      };
    },
  };
}
