import {
  formatRef,
  IncidentError,
  type IncidentService,
  type IncidentState,
  type OwnerService,
  parseRef,
  parseSilenceDuration,
  parseSilenceRef,
  parseSilenceTarget,
  parseStatusUpdate,
  type SilenceService,
} from "../../incidents/index.js";
import { SEVERITIES, type Severity } from "../../shared/severity.js";
import { escapeMrkdwn } from "../../shared/text.js";
import { incidentDetailBlocks, incidentListBlocks, silenceListBlocks } from "../blocks/incident-list.js";
import type { CommandContext, CommandReply, Subcommand } from "../commands/types.js";

/** What the incident commands call. */
export interface IncidentCommandDeps {
  incidents: IncidentService;
  silences: SilenceService;
  owners: OwnerService;
  /** The longest silence allowed (alerting.max_silence). */
  maxSilenceMs: number;
  models: readonly string[];
}

/** Turns the feature's known errors into a reply; anything else propagates (and is logged by Bolt). */
async function replying(run: () => Promise<CommandReply>): Promise<CommandReply> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof IncidentError) return { text: err.message };
    throw err;
  }
}

function refArg(ctx: CommandContext, usage: string): number | CommandReply {
  const word = ctx.args[0];
  const id = word ? parseRef(word) : undefined;
  if (id === undefined) {
    return {
      text: `${word ? `\`${escapeMrkdwn(word.slice(0, 30))}\` is not an incident reference. ` : ""}Usage: \`/mlops ${usage}\``,
    };
  }
  return id;
}

const ACTIVE: IncidentState[] = ["open", "acknowledged", "mitigated"];

/**
 * The Slack user id in a mention as a slash command receives it: `<@U123|dana>` (the manifest
 * sets `should_escape`), `<@U123>`, or a bare `U123`. Undefined for anything else (e.g. `@dana`
 * typed without picking the person, which Slack does not turn into an id).
 */
export function parseUserMention(word: string): string | undefined {
  const match = /^(?:<@([UW][A-Z0-9]{2,})(?:\|[^>]*)?>|([UW][A-Z0-9]{2,}))$/.exec(word.trim());
  return match?.[1] ?? match?.[2];
}

/** `/mlops incidents`, `incident`, `ack`, `assign`, `update`, `resolve`, `followup`, `silence`, `silences` and `unsilence`. */
export function incidentCommands(deps: IncidentCommandDeps): Subcommand[] {
  const { incidents, silences } = deps;
  return [
    {
      name: "incidents",
      usage: "[open|all] [model]",
      summary: "List incidents: unresolved ones by default, or all; optionally of one model",
      run: (ctx) =>
        replying(async () => {
          let scope: "open" | "all" = "open";
          let model: string | undefined;
          for (const word of ctx.args) {
            if (word === "open" || word === "all") scope = word;
            else if (deps.models.includes(word)) model = word;
            else
              return {
                text: `\`${escapeMrkdwn(word.slice(0, 40))}\` is neither open, all nor a model. Usage: \`/mlops incidents [open|all] [model]\``,
              };
          }
          const list = await incidents.list({
            states: scope === "open" ? ACTIVE : undefined,
            model,
            limit: 40,
          });
          const heading = `${scope === "open" ? "Unresolved" : "All"} incidents${model ? ` of ${model}` : ""}`;
          return {
            text: `${heading}: ${list.length ? list.map((i) => `${formatRef(i.id)} (${i.state})`).join(", ") : "none"}`,
            blocks: incidentListBlocks(list, heading),
          };
        }),
    },
    {
      name: "incident",
      usage: "INC-n",
      summary: "Show an incident's card and timeline",
      run: (ctx) =>
        replying(async () => {
          const id = refArg(ctx, "incident INC-n");
          if (typeof id !== "number") return id;
          const snapshot = await incidents.snapshot(id);
          const timeline = await incidents.timeline(id);
          return {
            text: `${formatRef(id)} [${snapshot.incident.state}] ${snapshot.incident.title}`,
            blocks: incidentDetailBlocks(snapshot, timeline),
          };
        }),
    },
    {
      name: "ack",
      usage: "INC-n",
      summary: "Acknowledge an incident: you are on it",
      run: (ctx) =>
        replying(async () => {
          const id = refArg(ctx, "ack INC-n");
          if (typeof id !== "number") return id;
          const result = await incidents.act({
            incidentId: id,
            action: "acknowledge",
            actor: ctx.userId,
            via: "command",
          });
          return { text: result.message };
        }),
    },
    {
      name: "assign",
      usage: "INC-n @user",
      summary: "Hand an incident over: the person becomes its owner and gets a DM with its summary",
      run: (ctx) =>
        replying(async () => {
          const usage = "Usage: `/mlops assign INC-n @user`";
          const id = refArg(ctx, "assign INC-n @user");
          if (typeof id !== "number") return id;
          const word = ctx.args[1];
          if (!word) return { text: `Say who should own it. ${usage}` };
          const to = parseUserMention(word);
          if (!to || ctx.args.length > 2)
            return {
              text: `\`${escapeMrkdwn(ctx.args.slice(1).join(" ").slice(0, 40))}\` is not one person. Mention them, picking the name from Slack's list. ${usage}`,
            };
          const result = await deps.owners.assign({ incidentId: id, actor: ctx.userId, via: "command", to });
          return { text: result.message };
        }),
    },
    {
      name: "update",
      usage: "INC-n <what is known> [next: <next step>]",
      summary: "Post a status update in the incident's thread (and its model's stakeholder channel)",
      run: (ctx) =>
        replying(async () => {
          const usage =
            "Usage: `/mlops update INC-n <what is known> [next: <next step>]`, e.g. `/mlops update INC-7 the ETL job dropped a column next: rerun it at 14:00`";
          const id = refArg(ctx, "update INC-n <what is known> [next: <next step>]");
          if (typeof id !== "number") return id;
          const update = parseStatusUpdate(ctx.args.slice(1).join(" "));
          if (!update) return { text: `Say what is known. ${usage}` };
          const result = await deps.owners.update({
            incidentId: id,
            actor: ctx.userId,
            via: "command",
            update: { known: update.known.slice(0, 2000), next: update.next?.slice(0, 500) },
          });
          return { text: result.message };
        }),
    },
    {
      name: "severity",
      usage: "INC-n critical|warning|info",
      summary: "Set an incident's severity by hand (as the card's select does); findings no longer change it",
      run: (ctx) =>
        replying(async () => {
          const usage = "Usage: `/mlops severity INC-n critical|warning|info`";
          const id = refArg(ctx, "severity INC-n critical|warning|info");
          if (typeof id !== "number") return id;
          const level = (ctx.args[1] ?? "").toLowerCase();
          if (ctx.args.length !== 2 || !(SEVERITIES as readonly string[]).includes(level))
            return {
              text: ctx.args[1]
                ? `\`${escapeMrkdwn(ctx.args.slice(1).join(" ").slice(0, 40))}\` is not a severity (critical, warning or info). ${usage}`
                : `Say which severity. ${usage}`,
            };
          const result = await deps.owners.severity({
            incidentId: id,
            actor: ctx.userId,
            via: "command",
            to: level as Severity,
          });
          return { text: result.message };
        }),
    },
    {
      name: "resolve",
      usage: "INC-n <what fixed it>",
      summary: "Resolve an incident with a note; a summary goes into its thread",
      run: (ctx) =>
        replying(async () => {
          const id = refArg(ctx, "resolve INC-n <what fixed it>");
          if (typeof id !== "number") return id;
          const note = ctx.args.slice(1).join(" ").trim();
          if (!note) return { text: "Say what fixed it: `/mlops resolve INC-n <what fixed it>`" };
          const result = await incidents.act({
            incidentId: id,
            action: "resolve",
            actor: ctx.userId,
            via: "command",
            note: note.slice(0, 2000),
          });
          return { text: result.message };
        }),
    },
    {
      name: "followup",
      usage: "INC-n <text>",
      summary: "Add a follow-up item to an incident's post-incident review",
      run: (ctx) =>
        replying(async () => {
          const usage = "followup INC-n <what to follow up>";
          const id = refArg(ctx, usage);
          if (typeof id !== "number") return id;
          const text = ctx.args.slice(1).join(" ").trim();
          if (!text) return { text: `Say what to follow up: \`/mlops ${usage}\`. Nothing was added.` };
          const result = await incidents.addFollowup({
            incidentId: id,
            actor: ctx.userId,
            via: "command",
            text,
          });
          return { text: result.message };
        }),
    },
    {
      name: "silence",
      usage: "<model|model/monitor|INC-n> <duration> <reason>",
      summary: "Mute alerts of a model, a monitor or one incident for a while (e.g. 2h)",
      run: (ctx) =>
        replying(async () => {
          const usage =
            "Usage: `/mlops silence <model|model/monitor|INC-n> <duration> <reason>`, e.g. `/mlops silence fraud-detector 2h deploy in progress`";
          const [targetWord, durationWord, ...reasonWords] = ctx.args;
          if (!targetWord || !durationWord) return { text: usage };
          const target = parseSilenceTarget(targetWord);
          if (!target)
            return {
              text: `\`${escapeMrkdwn(targetWord.slice(0, 40))}\` is not a model, model/monitor or INC-n. ${usage}`,
            };
          const duration = parseSilenceDuration(durationWord, deps.maxSilenceMs);
          if ("error" in duration) return { text: `${duration.error}. ${usage}` };
          const reason = reasonWords.join(" ").trim();
          if (!reason) return { text: `Say why. ${usage}` };
          const result = await silences.create({
            target,
            durationMs: duration.ms,
            reason,
            actor: ctx.userId,
            via: "command",
          });
          return { text: result.message };
        }),
    },
    {
      name: "silences",
      usage: "",
      summary: "List the silences in force",
      run: () =>
        replying(async () => {
          const list = await silences.active();
          return {
            text: `${list.length} silence${list.length === 1 ? "" : "s"} in force`,
            blocks: silenceListBlocks(list),
          };
        }),
    },
    {
      name: "unsilence",
      usage: "SIL-n",
      summary: "End a silence early",
      run: (ctx) =>
        replying(async () => {
          const id = ctx.args[0] ? parseSilenceRef(ctx.args[0]) : undefined;
          if (id === undefined)
            return { text: "Usage: `/mlops unsilence SIL-n` (`/mlops silences` lists them)" };
          const result = await silences.end({ id, actor: ctx.userId, via: "command" });
          return { text: result.message };
        }),
    },
  ];
}
