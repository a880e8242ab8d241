import type { KnownBlock } from "@slack/types";
import type { MlopsConfig } from "../../config/index.js";
import { escapeMrkdwn } from "../../shared/text.js";

/** One section per configured model: channel, L3 owners and which monitors run on what schedule. */
export function modelsBlocks(config: MlopsConfig): KnownBlock[] {
  const blocks: KnownBlock[] = [{ type: "header", text: { type: "plain_text", text: "Monitored models" } }];
  for (const m of config.models.slice(0, 45)) {
    const owners = config.workspace.user_groups[m.owners];
    const monitors = Object.entries(m.monitors)
      .filter(([, v]) => v !== undefined)
      .map(([name, v]) => `${name} \`${(v as { schedule: string }).schedule}\``);
    blocks.push({
      type: "section",
      fields: [
        { type: "mrkdwn", text: `*${escapeMrkdwn(m.name)}*\n\`${m.slug}\` · ${m.task.replace(/_/g, " ")}` },
        {
          type: "mrkdwn",
          text: `*Alerts* #${escapeMrkdwn(m.alert_channel ?? config.workspace.alert_channel)}\n*Owners (L3)* @${escapeMrkdwn(owners?.handle ?? m.owners)}`,
        },
        { type: "mrkdwn", text: `*Monitors*\n${monitors.length ? monitors.join("\n") : "none configured"}` },
        {
          type: "mrkdwn",
          text: `*Confidence threshold* ${m.confidence_threshold}\n*Features* ${m.features.length}`,
        },
      ],
    });
  }
  return blocks;
}
