/** The handoff reminder DM: what it says, and queuing it in the outbox. */
import type { KnownBlock } from "@slack/types";
import type { Db } from "../../db/index.js";
import type { HandoffReminder } from "../../oncall/index.js";
import { createOutboxRepository } from "../../outbox/index.js";
import type { Clock } from "../../shared/clock.js";
import { escapeMrkdwn } from "../../shared/text.js";
import { ACTION_IDS } from "../action-ids.js";

/** At most this many incidents are listed; the rest are counted. */
const LISTED = 15;

/** An instant Slack shows on each reader's own clock (the fallback in UTC). */
export function slackTime(d: Date): string {
  const fallback = `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;
  return `<!date^${Math.floor(d.getTime() / 1000)}^{date_short_pretty} {time}|${fallback}>`;
}

/** The DM to the person coming on call: when, from whom, and the open incidents they inherit. */
export function handoffMessage(r: HandoffReminder): { text: string; blocks: KnownBlock[] } {
  const from = r.from ? ` from <@${r.from}>` : "";
  const head = `You are on call in *${escapeMrkdwn(r.schedule)}* from ${slackTime(r.start)} until ${slackTime(r.end)}, taking over${from || " (nobody was on call before)"}.`;
  const lines = r.incidents
    .slice(0, LISTED)
    .map(
      (i) => `• *${i.ref}* [${i.severity}, ${i.state}] ${escapeMrkdwn(i.model)}: ${escapeMrkdwn(i.title)}`,
    );
  const more =
    r.incidents.length > LISTED ? `\n…and ${r.incidents.length - LISTED} more (\`/mlops incidents\`)` : "";
  const open = r.incidents.length
    ? `*You inherit ${r.incidents.length} open incident${r.incidents.length === 1 ? "" : "s"}:*\n${lines.join("\n")}${more}`
    : "No incidents are open.";
  const text = `Handoff: you are on call in ${r.schedule} from ${r.start.toISOString()}. ${r.incidents.length} open incident(s).`;
  return {
    text,
    blocks: [
      { type: "section", text: { type: "mrkdwn", text: head } },
      { type: "section", text: { type: "mrkdwn", text: open.slice(0, 2900) } },
      {
        type: "actions",
        elements: [
          {
            type: "button",
            action_id: ACTION_IDS.oncallFindCover,
            text: { type: "plain_text", text: "Find cover" },
            value: `${r.schedule}|${r.start.getTime()}|${r.end.getTime()}`,
          },
        ],
      },
      {
        type: "context",
        elements: [
          {
            type: "mrkdwn",
            text: `Can't take it? *Find cover* asks in the alert channel; or \`/mlops oncall override ${r.schedule} @person <from> <to>\``,
          },
        ],
      },
    ],
  };
}

/** Queues the reminder as a DM through the outbox (the transport opens the DM when it delivers). */
export function outboxHandoffSender(db: Db, clock: Clock, wake: () => void) {
  return async (r: HandoffReminder): Promise<void> => {
    await createOutboxRepository(db).enqueue(
      { method: "chat.postMessage", channel: r.user, payload: { ...handoffMessage(r) } },
      clock.now(),
    );
    wake();
  };
}
