import type { KnownBlock } from "@slack/types";
import {
  formatRef,
  formatSilenceRef,
  type Incident,
  type IncidentSnapshot,
  type Silence,
  type TimelineEntry,
} from "../../incidents/index.js";
import { escapeMrkdwn } from "../../shared/text.js";
import { incidentCard } from "./incident-card.js";
import { clip, STATE_EMOJI, slackDate, who } from "./incident-format.js";

/** `/mlops incidents`: one line per incident, newest first. */
export function incidentListBlocks(list: readonly Incident[], heading: string): KnownBlock[] {
  const blocks: KnownBlock[] = [{ type: "header", text: { type: "plain_text", text: clip(heading, 150) } }];
  if (list.length === 0) {
    blocks.push({ type: "section", text: { type: "mrkdwn", text: "None." } });
    return blocks;
  }
  const lines = list.map(
    (i) =>
      `${STATE_EMOJI[i.state]} *${formatRef(i.id)}* ${escapeMrkdwn(clip(i.title, 120))} · \`${i.model}\` · ${i.state}${i.assignee ? ` (${who(i.assignee)})` : ""} · opened ${slackDate(i.openedAt)}`,
  );
  for (let i = 0; i < lines.length && blocks.length < 45; i += 10) {
    blocks.push({
      type: "section",
      text: { type: "mrkdwn", text: clip(lines.slice(i, i + 10).join("\n"), 3000) },
    });
  }
  return blocks;
}

function eventLine(e: TimelineEntry): string {
  const detail = e.detail as Record<string, unknown>;
  const bits: string[] = [];
  if (typeof detail.note === "string") bits.push(escapeMrkdwn(clip(detail.note, 200)));
  if (typeof detail.action === "string") bits.push(`tried to ${detail.action}`);
  if (typeof detail.count === "number") bits.push(`#${detail.count}`);
  if (typeof detail.what === "string") bits.push(detail.what);
  if (typeof detail.silence === "string") bits.push(detail.silence);
  const delivery = e.delivery ? ` _(${e.delivery === "sent" ? "delivered" : e.delivery})_` : "";
  return `${slackDate(e.at, "{date_short} {time_secs}")} *${e.kind.replace(/_/g, " ")}* by ${who(e.actor)} via ${e.via}${bits.length ? ` — ${bits.join(", ")}` : ""}${delivery}`;
}

/** `/mlops incident INC-n`: the card followed by the timeline (the latest events when it is long). */
export function incidentDetailBlocks(
  snapshot: IncidentSnapshot,
  timeline: readonly TimelineEntry[],
): KnownBlock[] {
  const card = incidentCard(snapshot).blocks.filter((b) => b.type !== "actions");
  const shown = timeline.slice(-40);
  const blocks: KnownBlock[] = [
    ...card,
    { type: "divider" },
    {
      type: "context",
      elements: [
        {
          type: "mrkdwn",
          text: `*Timeline* (${timeline.length} events${timeline.length > shown.length ? `, the last ${shown.length} shown` : ""})`,
        },
      ],
    },
  ];
  for (let i = 0; i < shown.length && blocks.length < 49; i += 10) {
    blocks.push({
      type: "section",
      text: {
        type: "mrkdwn",
        text: clip(
          shown
            .slice(i, i + 10)
            .map(eventLine)
            .join("\n"),
          3000,
        ),
      },
    });
  }
  return blocks;
}

/** `/mlops silences`: the silences in force. */
export function silenceListBlocks(list: readonly Silence[]): KnownBlock[] {
  if (list.length === 0)
    return [{ type: "section", text: { type: "mrkdwn", text: "No silences in force." } }];
  const lines = list.map((s) => {
    const scope = s.fingerprint
      ? `${s.incidentId ? formatRef(s.incidentId) : `fingerprint \`${s.fingerprint}\``}`
      : s.monitor
        ? `\`${s.model}/${s.monitor}\``
        : `\`${s.model}\``;
    return `:zzz: *${formatSilenceRef(s.id)}* ${scope} until ${slackDate(s.endsAt)} by ${who(s.createdBy)}: ${escapeMrkdwn(clip(s.reason, 200))}`;
  });
  return [
    { type: "header", text: { type: "plain_text", text: "Silences in force" } },
    { type: "section", text: { type: "mrkdwn", text: clip(lines.slice(0, 30).join("\n"), 3000) } },
    { type: "context", elements: [{ type: "mrkdwn", text: "`/mlops unsilence SIL-n` ends one early." }] },
  ];
}
