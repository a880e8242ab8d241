import { IncidentError, parseRef } from "../../incidents/index.js";
import { type PreparedRun, RunbookError, type RunbookService } from "../../runbooks/index.js";
import { escapeMrkdwn } from "../../shared/text.js";
import type { CommandReply, Subcommand } from "../commands/types.js";
import { runbookListBlocks } from "./blocks.js";

const USAGE =
  'Usage: `/mlops runbook list [model]` or `/mlops runbook run <name> [INC-n] [key=value ...]` (quote values with spaces: key="a b")';

/**
 * Splits the words after `runbook run` keeping quoted values whole: `key="a b"`, `key='a b'`,
 * `"word"`. The values are data: they are validated against the manifest, never interpreted.
 */
export function splitRunArgs(text: string): string[] {
  const words: string[] = [];
  const re = /([a-z][a-z0-9_]*)=(?:"([^"]*)"|'([^']*)'|(\S*))|"([^"]*)"|'([^']*)'|(\S+)/g;
  for (const m of text.matchAll(re)) {
    if (m[1] !== undefined) words.push(`${m[1]}=${m[2] ?? m[3] ?? m[4] ?? ""}`);
    else words.push(m[5] ?? m[6] ?? m[7] ?? "");
  }
  return words;
}

async function replying(run: () => Promise<CommandReply>): Promise<CommandReply> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof RunbookError || err instanceof IncidentError) return { text: err.message };
    throw err;
  }
}

/** `/mlops runbook list [model]` and `/mlops runbook run <name> [INC-n] [key=value ...]`. */
export function runbookCommands(deps: {
  runbooks: RunbookService;
  models: readonly string[];
  /** Opens the confirm dialog of a `confirm: true` runbook (the command's trigger id). */
  confirm: (triggerId: string, prepared: PreparedRun, channel: string) => Promise<void>;
}): Subcommand[] {
  return [
    {
      name: "runbook",
      usage: "list [model] | run <name> [INC-n] [key=value ...]",
      summary: "List the L1 runbooks, or run one (for an incident: its result goes into the thread)",
      run: (ctx) =>
        replying(async () => {
          const [verb, ...rest] = ctx.args;
          if (verb === "list") {
            const model = rest[0];
            if (model && !deps.models.includes(model))
              return { text: `\`${escapeMrkdwn(model.slice(0, 40))}\` is not a model. ${USAGE}` };
            const list = deps.runbooks.list(model);
            return {
              text: `${list.length} runbook${list.length === 1 ? "" : "s"}: ${list.map((r) => r.name).join(", ") || "none"}`,
              blocks: runbookListBlocks(list, model),
            };
          }
          if (verb !== "run") return { text: USAGE };
          // Re-split the raw text so quoted values survive whole.
          const after = ctx.text.replace(/^\s*runbook\s+run\b/i, "");
          const [name, ...words] = splitRunArgs(after);
          if (!name || name.includes("=")) return { text: USAGE };
          let incidentId: number | undefined;
          const assignments: string[] = [];
          for (const w of words) {
            const m = /^([a-z][a-z0-9_]*)=(.*)$/s.exec(w);
            if (m) {
              assignments.push(w);
              continue;
            }
            const ref = parseRef(w);
            if (ref !== undefined && incidentId === undefined && /^inc-/i.test(w)) incidentId = ref;
            else
              return { text: `\`${escapeMrkdwn(w.slice(0, 40))}\` is neither INC-n nor key=value. ${USAGE}` };
          }
          const given: Record<string, string> = {};
          for (const a of assignments) {
            const i = a.indexOf("=");
            given[a.slice(0, i)] = a.slice(i + 1);
          }
          const req = {
            name,
            incidentId,
            given,
            actor: ctx.userId,
            via: "command" as const,
            channel: ctx.channelId,
          };
          const prepared = await deps.runbooks.prepare(req);
          if ("refused" in prepared) return { text: prepared.refused };
          if (prepared.runbook.confirm) {
            // Typing the command is not the confirmation a `confirm: true` runbook asks for.
            await deps.confirm(ctx.triggerId, prepared, ctx.channelId);
            return {
              text: `\`${name}\` asks to confirm first: check its parameters in the dialog and press Run.`,
            };
          }
          const run = await deps.runbooks.start(prepared, req);
          const where = run.incidentId ? `the thread of INC-${run.incidentId}` : "this channel";
          return { text: `Started \`${name}\` (run ${run.id}); its progress and result appear in ${where}.` };
        }),
    },
  ];
}
