import type { KnownBlock } from "@slack/types";
import type { Subcommand } from "../commands/types.js";

function line(c: Subcommand): string {
  return `\`/mlops ${c.name}${c.usage ? ` ${c.usage}` : ""}\` — ${c.summary}`;
}

/** The help message: every subcommand, one line each. */
export function helpBlocks(list: readonly Subcommand[], unknownTopic?: string): KnownBlock[] {
  const blocks: KnownBlock[] = [
    { type: "header", text: { type: "plain_text", text: "mlops-bot commands" } },
    { type: "section", text: { type: "mrkdwn", text: list.map(line).join("\n") } },
  ];
  blocks.push({
    type: "context",
    elements: [
      {
        type: "mrkdwn",
        text: unknownTopic
          ? `No command called \`${unknownTopic.slice(0, 40)}\`; these are the ones there are.`
          : "`/mlops help <command>` shows one command in detail. Replies like this one are visible only to you.",
      },
    ],
  });
  return blocks;
}

/** Help for one subcommand. */
export function subcommandHelpBlocks(c: Subcommand): KnownBlock[] {
  return [{ type: "section", text: { type: "mrkdwn", text: `*${line(c)}*` } }];
}

/** The reply to an unknown subcommand, with the closest known one when there is one. */
export function unknownCommandBlocks(name: string, suggestion: string | undefined): KnownBlock[] {
  return [
    {
      type: "section",
      text: {
        type: "mrkdwn",
        text: `:warning: Unknown command \`${name}\`.${suggestion ? ` Did you mean \`/mlops ${suggestion}\`?` : ""}`,
      },
    },
    { type: "context", elements: [{ type: "mrkdwn", text: "`/mlops help` lists every command." }] },
  ];
}
