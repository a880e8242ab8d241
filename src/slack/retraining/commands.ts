/** `/mlops retrain`, `/mlops canary` and `/mlops models` (champion, challenger and canary per model). */
import {
  fmtP,
  RetrainingError,
  type RetrainingService,
  type RolloutService,
} from "../../retraining/index.js";
import { escapeMrkdwn } from "../../shared/text.js";
import type { CommandReply, Subcommand } from "../commands/types.js";
import { modelsRolloutBlocks } from "./blocks.js";

/** What the retraining commands call. */
export interface RetrainingCommandDeps {
  service: RetrainingService;
  rollout: RolloutService;
  models: readonly string[];
  /** The `models` command this one extends (monitoring's health listing), if any. */
  previousModels?: Subcommand | undefined;
}

async function replying(run: () => Promise<CommandReply>): Promise<CommandReply> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof RetrainingError) return { text: err.message };
    throw err;
  }
}

function unknownModel(
  slug: string | undefined,
  models: readonly string[],
  usage: string,
): CommandReply | null {
  if (!slug) return { text: `Usage: \`/mlops ${usage}\`. \`/mlops models\` lists the models.` };
  if (!models.includes(slug))
    return { text: `No model called \`${escapeMrkdwn(slug.slice(0, 60))}\`. \`/mlops models\` lists them.` };
  return null;
}

/** The retraining subcommands. */
export function retrainingCommands(deps: RetrainingCommandDeps): Subcommand[] {
  const retrain: Subcommand = {
    name: "retrain",
    usage: "<model> [INC-n] [reason]",
    summary: "Retrain a model through its pipeline; the candidate comes back here for approval",
    run: (ctx) =>
      replying(async () => {
        const [slug, maybeRef, ...rest] = ctx.args;
        const bad = unknownModel(slug, deps.models, "retrain <model> [INC-n] [reason]");
        if (bad) return bad;
        const ref = maybeRef && /^INC-\d{1,9}$/i.test(maybeRef) ? Number(maybeRef.slice(4)) : undefined;
        const words = ref === undefined && maybeRef ? [maybeRef, ...rest] : rest;
        const reason = words.join(" ").trim().slice(0, 500) || undefined;
        const result = await deps.service.requestRetrain({
          model: slug as string,
          incidentId: ref,
          reason,
          actor: ctx.userId,
          via: "command",
        });
        return { text: result.message };
      }),
  };

  const canary: Subcommand = {
    name: "canary",
    usage: "<model>",
    summary: "Compare champion and challenger of a running canary now, and post it in the thread",
    run: (ctx) =>
      replying(async () => {
        const slug = ctx.args[0];
        const bad = unknownModel(slug, deps.models, "canary <model>");
        if (bad) return bad;
        const result = await deps.rollout.canaryNow(slug as string, ctx.userId);
        if (!result) return { text: `\`${slug}\` has no canary running.` };
        const { candidate: c, comparison: k } = result;
        const tests = k.tests.map((t) => `${t.name} p = ${fmtP(t.pValue)}`).join(", ");
        return {
          text: `Canary of \`${c.model}\` (\`${c.version}\` vs \`${c.championVersion ?? "none"}\`): ${k.summary}${tests ? ` (${tests})` : ""} Posted in the thread.`,
        };
      }),
  };

  const models: Subcommand = {
    name: "models",
    usage: "",
    summary: "List the models with their champion, challenger and canary (and their health)",
    async run(ctx, commandDeps) {
      const rollout = modelsRolloutBlocks(await deps.rollout.overview());
      const health = deps.previousModels ? await deps.previousModels.run(ctx, commandDeps) : undefined;
      return {
        text: `${rollout.text}${health ? `\n${health.text}` : ""}`,
        blocks: [
          ...rollout.blocks,
          ...(health?.blocks ? [{ type: "divider" as const }, ...health.blocks] : []),
        ].slice(0, 50),
      };
    },
  };

  return [retrain, canary, models];
}
