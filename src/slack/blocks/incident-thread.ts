import {
  formatRef,
  formatSilenceRef,
  type ResolutionSummary,
  type ThreadNote,
} from "../../incidents/index.js";
import { formatDuration } from "../../shared/duration.js";
import { escapeMrkdwn } from "../../shared/text.js";
import { clip, formatMetrics, slackDate, who } from "./incident-format.js";

const ACTION_WORD = {
  acknowledge: "acknowledged",
  mitigate: "marked it mitigated",
  resolve: "resolved",
} as const;

function resolvedText(s: ResolutionSummary): string {
  const lines = [
    `:white_check_mark: *${s.ref} resolved* by ${who(s.resolvedBy)} after ${s.duration}.`,
    `*Resolution:* ${escapeMrkdwn(clip(s.resolution ?? "—", 1500))}`,
    `*Alert fired* ${s.firings === 1 ? "once" : `${s.firings} times`}.`,
  ];
  if (s.contributions.length)
    lines.push(`*Who did what:*\n${s.contributions.map((c) => `• ${c}`).join("\n")}`);
  return lines.join("\n");
}

/** The text of a reply in the incident thread (Slack mrkdwn). */
export function threadNoteText(note: ThreadNote): string {
  switch (note.kind) {
    case "firing_again": {
      const times = note.firings > 1 ? ` (${note.firings} times since the last note)` : "";
      const numbers = Object.keys(note.alert.metrics).length
        ? `\n${formatMetrics(note.alert.metrics, 8)}`
        : "";
      return `:repeat: Fired again${times}: ${escapeMrkdwn(clip(note.alert.title, 300))}${numbers}`;
    }
    case "reminder":
      return `:alarm_clock: Still firing after ${formatDuration(note.firingForMs)} (${note.alert.fireCount} firings so far): ${escapeMrkdwn(clip(note.alert.title, 300))}. Acknowledge, resolve or silence it.`;
    case "alert_resolved":
      return ":large_green_circle: The alert reports resolved. The incident stays unresolved until someone resolves it.";
    case "state": {
      const how = note.via === "command" ? " (with /mlops)" : "";
      const why = note.note ? `: ${escapeMrkdwn(clip(note.note, 1000))}` : "";
      return `:eyes: ${who(note.actor)} ${ACTION_WORD[note.action]}${how}${why}`;
    }
    case "resolved":
      return resolvedText(note.summary);
    case "silenced": {
      const s = note.silence;
      const scope = s.fingerprint
        ? "this alert"
        : s.monitor
          ? `\`${s.model}/${s.monitor}\``
          : `every alert of \`${s.model}\``;
      return `:zzz: ${who(note.actor)} silenced ${scope} until ${slackDate(s.endsAt)} (${formatSilenceRef(s.id)}): ${escapeMrkdwn(clip(s.reason, 500))}`;
    }
    case "silence_over":
      return note.how === "expired"
        ? `:bell: ${formatSilenceRef(note.silence.id)} expired; notifications resume.`
        : `:bell: ${who(note.actor)} ended ${formatSilenceRef(note.silence.id)}; notifications resume.`;
    case "followup":
      return `:memo: ${who(note.actor)} added follow-up ${note.count} to the review: ${escapeMrkdwn(clip(note.text, 600))}`;
  }
}

/** A short fallback naming the incident, for notifications about a reply. */
export function threadNoteFallback(incidentId: number, note: ThreadNote): string {
  return `${formatRef(incidentId)}: ${threadNoteText(note)}`;
}
