import type { KnownBlock } from "@slack/types";
import { formatRef, type IncidentSnapshot } from "../../incidents/index.js";
import { SEVERITIES, type Severity } from "../../shared/severity.js";
import { escapeMrkdwn } from "../../shared/text.js";
import { ACTION_IDS, runbookActionId } from "../action-ids.js";
import { clip, formatMetrics, SEVERITY_EMOJI, STATE_EMOJI, slackDate, who } from "./incident-format.js";

/** A message as the outbox stores it: fallback text plus blocks. */
export interface SlackMessage {
  text: string;
  blocks: KnownBlock[];
}

function stateLine(s: IncidentSnapshot): string {
  const { incident: i } = s;
  switch (i.state) {
    case "open":
      return `${STATE_EMOJI.open} Open`;
    case "acknowledged":
      return `${STATE_EMOJI.acknowledged} Acknowledged by ${who(i.acknowledgedBy)}${s.acknowledgedFrom ? ` from ${escapeMrkdwn(s.acknowledgedFrom)}` : ""}`;
    case "mitigated":
      return `${STATE_EMOJI.mitigated} Mitigated by ${who(i.mitigatedBy)}`;
    case "resolved":
      return `${STATE_EMOJI.resolved} Resolved by ${who(i.resolvedBy)}`;
  }
}

function tierField(e: NonNullable<IncidentSnapshot["escalation"]>): string {
  const next = e.nextAt ? ` · next step ${slackDate(e.nextAt, "{time}")}` : "";
  const target = e.schedule ? `on call in ${escapeMrkdwn(e.schedule)}` : `@${escapeMrkdwn(e.handle)}`;
  return `*Tier*\nL${e.tier} (${target})${next}`;
}

const SEVERITY_WORD = { critical: "Critical", warning: "Warning", info: "Info" } as const;

function buttons(s: IncidentSnapshot): KnownBlock[] {
  const { incident: i } = s;
  if (i.state === "resolved") return [];
  const value = String(i.id);
  const elements: Extract<KnownBlock, { type: "actions" }>["elements"] = [];
  if (i.state === "open") {
    elements.push({
      type: "button",
      action_id: ACTION_IDS.incidentAcknowledge,
      text: { type: "plain_text", text: "Acknowledge" },
      style: "primary",
      value,
    });
  }
  // Escalate is offered only when the escalation feature describes the incident (it answers the button).
  if (s.escalation?.canEscalate) {
    elements.push({
      type: "button",
      action_id: ACTION_IDS.incidentEscalate,
      text: { type: "plain_text", text: `Escalate to L${s.escalation.tier + 1}` },
      value: `${i.id}:${s.escalation.tier}`,
    });
  }
  // Offered to everyone, owned or not: taking over from the current owner is a handover too.
  elements.push({
    type: "button",
    action_id: ACTION_IDS.incidentTake,
    text: { type: "plain_text", text: "Take it" },
    value,
  });
  elements.push({
    type: "button",
    action_id: ACTION_IDS.incidentUpdate,
    text: { type: "plain_text", text: "Update" },
    value,
  });
  elements.push({
    type: "button",
    action_id: ACTION_IDS.incidentResolve,
    text: { type: "plain_text", text: "Resolve" },
    value,
  });
  if (!s.silence) {
    elements.push({
      type: "button",
      action_id: ACTION_IDS.incidentSilence1h,
      text: { type: "plain_text", text: "Silence 1h" },
      value,
    });
  }
  // Anyone allowed to acknowledge may set the severity; the listener checks who chose it.
  const option = (level: Severity) => ({
    text: { type: "plain_text" as const, text: `${SEVERITY_WORD[level]}` },
    value: `${i.id}:${level}`,
  });
  elements.push({
    type: "static_select",
    action_id: ACTION_IDS.incidentSeverity,
    placeholder: { type: "plain_text", text: "Severity" },
    initial_option: option(i.severity),
    options: SEVERITIES.map(option),
  });
  const blocks: KnownBlock[] = [{ type: "actions", block_id: "incident_actions", elements }];
  if (s.runbooks.length) {
    blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: "*Suggested runbooks*" }] });
    blocks.push({
      type: "actions",
      block_id: "incident_runbooks",
      elements: s.runbooks.slice(0, 5).map((name) => ({
        type: "button" as const,
        action_id: runbookActionId(name),
        text: { type: "plain_text" as const, text: clip(`Run ${name}`, 75) },
        value,
      })),
    });
  }
  return blocks;
}

/**
 * The incident card: the alert message in the model's channel, updated in place on every change.
 * Title, model and version, what fired with its numbers and rule, when, state, owner, buttons.
 */
export function incidentCard(s: IncidentSnapshot): SlackMessage {
  const { incident: i } = s;
  const text = `${formatRef(i.id)} [${i.state}] ${i.title} (${i.model})`;
  return { text: clip(text, 3000), blocks: [...incidentSummaryBlocks(s), ...buttons(s)] };
}

/**
 * The DM to an incident's new owner: who handed it over, the card's summary without its buttons
 * (they act in the incident's channel), and where the thread is.
 */
export function handOverMessage(s: IncidentSnapshot, by: string): SlackMessage {
  const { incident: i } = s;
  const ref = formatRef(i.id);
  const where = /^[CG][A-Z0-9]{2,}$/.test(i.channel) ? `<#${i.channel}>` : `#${i.channel}`;
  const intro = `:bust_in_silhouette: ${who(by)} made you the owner of *${ref}*. Its card and thread are in ${where}; post status updates with \`/mlops update ${ref} <what is known> next: <next step>\`.`;
  return {
    text: clip(`${who(by)} made you the owner of ${ref}: ${i.title}`, 3000),
    blocks: [{ type: "section", text: { type: "mrkdwn", text: intro } }, ...incidentSummaryBlocks(s)],
  };
}

/** Members listed on a card; the rest are counted. */
const MAX_MEMBERS = 10;

/**
 * The findings of a grouped incident, firing first and ranked by severity and score: each with its
 * statistic and rule, recovered ones marked with how many clean runs they have behind them.
 */
function membersBlock(s: IncidentSnapshot): KnownBlock {
  const firing = s.members.filter((m) => m.state === "firing").length;
  const head = `*Findings* (${firing} firing, ${s.members.length - firing} recovered)`;
  const lines = s.members.slice(0, MAX_MEMBERS).map((m) => {
    const a = m.alert;
    const mark =
      m.state === "firing"
        ? `${SEVERITY_EMOJI[a.severity]} *${escapeMrkdwn(clip(a.subject, 60))}*`
        : `:white_check_mark: ~${escapeMrkdwn(clip(a.subject, 60))}~ recovered${s.incident.state === "resolved" ? "" : ` (clean ${Math.min(m.cleanRuns, s.resolveAfter)}/${s.resolveAfter} runs)`}`;
    const numbers = Object.keys(a.metrics).length ? ` · ${formatMetrics(a.metrics, 5)}` : "";
    const rule = a.rule ? ` · _${escapeMrkdwn(clip(a.rule, 120))}_` : "";
    return `${mark}${numbers}${rule}`;
  });
  const more = s.members.length > MAX_MEMBERS ? [`…and ${s.members.length - MAX_MEMBERS} more`] : [];
  return {
    type: "section",
    block_id: "incident_members",
    text: { type: "mrkdwn", text: clip([head, ...lines, ...more].join("\n"), 3000) },
  };
}

/** Everything the card says, without its buttons. */
function incidentSummaryBlocks(s: IncidentSnapshot): KnownBlock[] {
  const { incident: i, alert: a } = s;
  const ref = formatRef(i.id);
  const title = clip(`${ref} · ${i.title}`, 140);
  const version = i.modelVersion ? ` ${escapeMrkdwn(clip(i.modelVersion, 40))}` : "";
  const fired =
    i.alertCount === 1
      ? `once, ${slackDate(i.openedAt)}`
      : `${i.alertCount} times · last ${slackDate(i.lastFiredAt)}`;
  const blocks: KnownBlock[] = [
    {
      type: "header",
      text: { type: "plain_text", text: `${i.state === "resolved" ? "✅" : "🔴"} ${title}` },
    },
    {
      type: "section",
      fields: [
        { type: "mrkdwn", text: `*Model*\n${escapeMrkdwn(s.modelName)} (\`${i.model}\`${version})` },
        { type: "mrkdwn", text: `*State*\n${stateLine(s)}` },
        { type: "mrkdwn", text: `*Severity*\n${SEVERITY_EMOJI[i.severity]} ${i.severity}` },
        { type: "mrkdwn", text: `*Owner*\n${i.assignee ? who(i.assignee) : "nobody yet"}` },
        { type: "mrkdwn", text: `*Fired*\n${fired}` },
        { type: "mrkdwn", text: `*Opened*\n${slackDate(i.openedAt)}` },
        ...(s.escalation ? [{ type: "mrkdwn" as const, text: tierField(s.escalation) }] : []),
      ],
    },
  ];
  const detail = [
    a.summary ? clip(a.summary, 1500) : escapeMrkdwn(a.title),
    a.rule ? `*Rule:* ${escapeMrkdwn(clip(a.rule, 400))}` : "",
    Object.keys(a.metrics).length ? `*Numbers:* ${clip(formatMetrics(a.metrics), 900)}` : "",
  ].filter(Boolean);
  blocks.push({ type: "section", text: { type: "mrkdwn", text: detail.join("\n") } });
  if (s.grouped && s.members.length > 0) blocks.push(membersBlock(s));
  if (i.state === "resolved") {
    blocks.push({
      type: "section",
      text: {
        type: "mrkdwn",
        text: `*Resolution* (${slackDate(i.resolvedAt ?? i.lastFiredAt)}): ${escapeMrkdwn(clip(i.resolution ?? "—", 2000))}`,
      },
    });
  }
  const context = [
    s.grouped && s.members.length > 0
      ? `\`${escapeMrkdwn(clip(i.monitor, 60))}\` · ${s.members.length === 1 ? "1 finding" : `${s.members.length} findings`} · group \`${i.fingerprint}\``
      : `\`${escapeMrkdwn(clip(i.monitor, 60))}\` · ${escapeMrkdwn(clip(i.subject, 80))} · fingerprint \`${i.fingerprint}\``,
  ];
  if (s.silence) {
    context.push(
      `:zzz: Silenced until ${slackDate(s.silence.endsAt)} by ${who(s.silence.createdBy)}: ${escapeMrkdwn(clip(s.silence.reason, 200))}`,
    );
  }
  if (i.lastUpdateAt) context.push(`:memo: Last status update ${slackDate(i.lastUpdateAt)}`);
  blocks.push({ type: "context", elements: context.map((text) => ({ type: "mrkdwn" as const, text })) });
  return blocks;
}
