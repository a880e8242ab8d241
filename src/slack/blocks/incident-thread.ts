import {
  type Alert,
  formatRef,
  formatSilenceRef,
  type Incident,
  type ResolutionSummary,
  type ThreadNote,
} from "../../incidents/index.js";
import { formatDuration } from "../../shared/duration.js";
import { escapeMrkdwn } from "../../shared/text.js";
import { clip, formatMetrics, SEVERITY_EMOJI, slackDate, who } from "./incident-format.js";

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

const STATE_WORD = {
  open: "Open",
  acknowledged: "Acknowledged",
  mitigated: "Mitigated",
  resolved: "Resolved",
} as const;

/** The lines of a status update: status (state and owner), what is known, next step. */
export function statusUpdateLines(note: Extract<ThreadNote, { kind: "status_update" }>): string[] {
  const owner = note.owner ? ` · owner ${who(note.owner)}` : " · no owner yet";
  return [
    `*Status:* ${STATE_WORD[note.state]}${owner}`,
    `*What we know:* ${escapeMrkdwn(clip(note.update.known, 1500))}`,
    `*Next step:* ${note.update.next ? escapeMrkdwn(clip(note.update.next, 500)) : "—"}`,
  ];
}

function updateDueText(note: Extract<ThreadNote, { kind: "update_due" }>): string {
  const ref = formatRef(note.incidentId);
  const since = note.lastUpdateAt ? `since ${slackDate(note.lastUpdateAt)}` : "yet";
  return [
    `:hourglass_flowing_sand: ${who(note.owner)}, ${ref} has had no status update ${since}; ${note.severity} incidents get one every ${formatDuration(note.everyMs)}.`,
    `Post one with \`/mlops update ${ref} <what is known> next: <next step>\` or the *Update* button on the card.`,
  ].join("\n");
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
    case "member_joined": {
      const numbers = Object.keys(note.alert.metrics).length
        ? `\n${formatMetrics(note.alert.metrics, 8)}`
        : "";
      const rule = note.alert.rule ? `\n*Rule:* ${escapeMrkdwn(clip(note.alert.rule, 400))}` : "";
      return `:heavy_plus_sign: *Joined this incident:* ${escapeMrkdwn(clip(note.alert.title, 300))} (${note.members} findings now)${numbers}${rule}`;
    }
    case "reminder":
      return `:alarm_clock: Still firing after ${formatDuration(note.firingForMs)} (${note.alert.fireCount} firings so far): ${escapeMrkdwn(clip(note.alert.title, 300))}. Acknowledge, resolve or silence it.`;
    case "alert_resolved":
      return ":large_green_circle: The alert reports resolved. The incident stays unresolved until someone resolves it.";
    case "state": {
      const how = note.from
        ? ` from ${escapeMrkdwn(note.from)}`
        : note.via === "command"
          ? " (with /mlops)"
          : "";
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
    case "owner":
      return note.how === "took"
        ? `:bust_in_silhouette: ${who(note.actor)} took it: they own this incident now.`
        : `:bust_in_silhouette: ${who(note.actor)} handed this incident to ${who(note.owner)}, who owns it now.`;
    case "status_update":
      return [
        `:memo: *Status update* from ${who(note.actor)}, ${formatRef(note.incidentId)}`,
        ...statusUpdateLines(note),
      ].join("\n");
    case "update_due":
      return updateDueText(note);
    case "severity":
      return `${SEVERITY_EMOJI[note.to]} ${who(note.actor)} changed the severity from *${note.from}* to *${note.to}*.`;
  }
}

/**
 * An info finding as a feed line in the model's channel: what fired, its rule and numbers. It opens
 * no incident, so it carries no buttons.
 */
export function feedText(alert: Alert): string {
  const lines = [
    `${SEVERITY_EMOJI.info} *Info* · \`${alert.model}\` · ${escapeMrkdwn(clip(alert.title, 200))}`,
    alert.rule ? `*Rule:* ${escapeMrkdwn(clip(alert.rule, 400))}` : "",
    Object.keys(alert.metrics).length ? `*Numbers:* ${clip(formatMetrics(alert.metrics), 900)}` : "",
    `_Info findings open no incident; \`alerting.severity\` sets which rules do._`,
  ];
  return lines.filter(Boolean).join("\n");
}

/** A short fallback naming the incident, for notifications about a reply. */
export function threadNoteFallback(incidentId: number, note: ThreadNote): string {
  return `${formatRef(incidentId)}: ${threadNoteText(note)}`;
}

/**
 * A reply posted top level in another channel (a status update in the model's stakeholder
 * channel): it names the incident, its title and model, since the reader has no card above it.
 */
export function stakeholderText(incident: Incident, note: ThreadNote): string {
  const head = `*${formatRef(incident.id)}* · ${escapeMrkdwn(clip(incident.title, 200))} (\`${incident.model}\`)`;
  if (note.kind !== "status_update") return `${head}\n${threadNoteText(note)}`;
  return [`:memo: *Status update* on ${head} from ${who(note.actor)}`, ...statusUpdateLines(note)].join("\n");
}
