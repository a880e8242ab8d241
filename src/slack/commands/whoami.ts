import { whoamiBlocks } from "../blocks/whoami.js";
import type { Subcommand } from "./types.js";

/** `/mlops whoami [model]`: your user groups and what you may do, so a refusal is never a mystery. */
export const whoamiCommand: Subcommand = {
  name: "whoami",
  usage: "[model]",
  summary: "Show your user groups and what you may do (on a model, counting its owners)",
  async run(ctx, { config, access }) {
    const slug = ctx.args[0];
    if (slug && !config.models.some((m) => m.slug === slug)) {
      return { text: `No model called \`${slug.slice(0, 60)}\`. \`/mlops models\` lists them.` };
    }
    const groups = await access.groupsOf(ctx.userId);
    const actions = await access.actionsOf(ctx.userId, slug);
    const handles = groups.map((g) => `@${config.workspace.user_groups[g]?.handle ?? g}`);
    return {
      text: `You are in ${handles.join(", ") || "no configured user group"}; you may ${actions.join(", ") || "only read"}.`,
      blocks: whoamiBlocks(ctx.userId, handles, actions, slug),
    };
  },
};
