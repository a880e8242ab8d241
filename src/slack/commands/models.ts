import { modelsBlocks } from "../blocks/models.js";
import type { Subcommand } from "./types.js";

/** `/mlops models`: the configured models with their channel, owners and monitors. */
export const modelsCommand: Subcommand = {
  name: "models",
  usage: "",
  summary: "List the monitored models with their alert channel, owners and monitors",
  run(_ctx, { config }) {
    return {
      text: `Models: ${config.models.map((m) => m.slug).join(", ")}`,
      blocks: modelsBlocks(config),
    };
  },
};
