import { EscalationError, type EscalationService } from "../../escalation/index.js";
import { IncidentError, parseRef } from "../../incidents/index.js";
import { escapeMrkdwn } from "../../shared/text.js";
import type { CommandReply, Subcommand } from "../commands/types.js";
import { onCallBlocks } from "./blocks.js";

/** What the escalation commands call. */
export interface EscalationCommandDeps {
  escalation: EscalationService;
  models: readonly string[];
  /** Called after an escalation so its page goes out before the next tick. */
  poke(): void;
}

async function replying(run: () => Promise<CommandReply>): Promise<CommandReply> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof IncidentError || err instanceof EscalationError) return { text: err.message };
    throw err;
  }
}

/** `/mlops escalate INC-n [note]` and `/mlops oncall [model]`. */
export function escalationCommands(deps: EscalationCommandDeps): Subcommand[] {
  const { escalation } = deps;
  return [
    {
      name: "escalate",
      usage: "INC-n [note]",
      summary: "Page the next tier (L1 → L2 data scientists → L3 model owners), with an optional note",
      run: (ctx) =>
        replying(async () => {
          const word = ctx.args[0];
          const id = word ? parseRef(word) : undefined;
          if (id === undefined)
            return {
              text: `${word ? `\`${escapeMrkdwn(word.slice(0, 30))}\` is not an incident reference. ` : ""}Usage: \`/mlops escalate INC-n [note]\``,
            };
          const note = ctx.args.slice(1).join(" ").trim().slice(0, 500) || undefined;
          const result = await escalation.escalate({
            incidentId: id,
            actor: ctx.userId,
            via: "command",
            note,
          });
          if (result.outcome === "done") deps.poke();
          return { text: result.message };
        }),
    },
    {
      name: "oncall",
      usage: "[model]",
      summary: "Who is L1, L2 and L3 for a model right now",
      run: (ctx) =>
        replying(async () => {
          const model = ctx.args[0];
          if (ctx.args.length > 1 || (model && !deps.models.includes(model)))
            return {
              text: `\`${escapeMrkdwn((model ?? "").slice(0, 40))}\` is not a model (known: ${deps.models.join(", ")}). Usage: \`/mlops oncall [model]\``,
            };
          return onCallBlocks(await escalation.onCall(model));
        }),
    },
  ];
}
