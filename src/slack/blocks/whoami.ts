import type { KnownBlock } from "@slack/types";

/** The `/mlops whoami` reply. */
export function whoamiBlocks(
  userId: string,
  groupHandles: string[],
  actions: string[],
  model?: string,
): KnownBlock[] {
  return [
    {
      type: "section",
      fields: [
        { type: "mrkdwn", text: `*You*\n<@${userId}>` },
        {
          type: "mrkdwn",
          text: `*User groups*\n${groupHandles.join(", ") || "none of the configured ones"}`,
        },
        {
          type: "mrkdwn",
          text: `*You may${model ? ` (on \`${model}\`)` : ""}*\n${actions.map((a) => a.replace(/_/g, " ")).join(", ") || "read only"}`,
        },
      ],
    },
  ];
}
