import type { KnownBlock } from "@slack/types";
import {
  formatWait,
  type OnCall,
  type PageContext,
  type PageMessage,
  tierLabel,
} from "../../escalation/index.js";
import { formatRef } from "../../incidents/index.js";
import { escapeMrkdwn } from "../../shared/text.js";
import { ACTION_IDS } from "../action-ids.js";
import type { SlackMessage } from "../blocks/incident-card.js";
import { clip, slackDate, who } from "../blocks/incident-format.js";

function groupMention(m: PageMessage): string {
  if (m.group.none)
    return m.onCall?.user
      ? `<@${m.onCall.user}> (on call in ${escapeMrkdwn(m.onCall.schedule)})`
      : `Nobody is on call in ${escapeMrkdwn(m.onCall?.schedule ?? "its schedule")} for this`;
  const group = m.group.id ? `<!subteam^${m.group.id}>` : `@${escapeMrkdwn(m.group.handle)}`;
  return m.onCall?.user
    ? `<@${m.onCall.user}> (on call in ${escapeMrkdwn(m.onCall.schedule)}) ${group}`
    : group;
}

function why(m: PageMessage): string {
  const { page } = m;
  const note = page.note ? `: ${escapeMrkdwn(clip(page.note, 300))}` : "";
  switch (page.reason) {
    case "manual":
      return `escalated by ${who(page.actor)}${note}`;
    case "timeout":
      return `escalated automatically${note}`;
    case "repeat":
      return `paged again${note}`;
    case "severity":
      return page.note ? escapeMrkdwn(clip(page.note, 300)) : "its severity";
    default:
      return "a new incident";
  }
}

function num(x: number | null, digits = 3): string {
  return x === null ? "—" : String(Number(x.toPrecision(digits)));
}

/** The data-science context: drifted features, data quality, confidence trend, runbook runs; L3 adds what L2 tried. */
export function contextLines(c: PageContext): string[] {
  const lines: string[] = [];
  if (c.drift.length) {
    const features = c.drift
      .map(
        (d) =>
          `• \`${escapeMrkdwn(d.feature)}\` ${escapeMrkdwn(d.method)} ${num(d.value)} (threshold ${num(d.threshold)})${d.drifted ? " :warning: drifted" : ""}`,
      )
      .join("\n");
    lines.push(
      `*Most drifted features*\n${features}${c.driftRule ? `\n_Rule:_ ${escapeMrkdwn(clip(c.driftRule, 300))}` : ""}`,
    );
  }
  if (c.dataQuality.length) {
    lines.push(
      `*Data quality*\n${c.dataQuality.map((f) => `• ${escapeMrkdwn(clip(f.title, 150))} — _${escapeMrkdwn(clip(f.rule, 150))}_`).join("\n")}`,
    );
  }
  if (c.confidence.length) {
    const trend = c.confidence
      .map((p) => (p.lowShare === null ? "—" : `${Math.round(p.lowShare * 1000) / 10}%`))
      .join(" → ");
    lines.push(`*Low-confidence share* (oldest → newest): ${trend}`);
  }
  if (c.runbooks.length) {
    lines.push(
      `*Runbook runs*\n${c.runbooks
        .map((r) => {
          const exit = r.exitCode === null ? "" : ` exit ${r.exitCode}`;
          const took = r.durationMs === null ? "" : ` in ${formatWait(r.durationMs)}`;
          const verify = r.verify ? ` · verify: ${escapeMrkdwn(clip(r.verify, 80))}` : "";
          return `• \`${escapeMrkdwn(r.name)}\` ${escapeMrkdwn(r.status)}${exit}${took}${verify}`;
        })
        .join("\n")}`,
    );
  } else {
    lines.push("*Runbook runs*: none yet");
  }
  if (c.sinceL2.length) {
    lines.push(
      `*What L2 tried*\n${c.sinceL2
        .map((e) => `• ${slackDate(e.at, "{time}")} ${e.actor} ${escapeMrkdwn(clip(e.text, 200))}`)
        .join("\n")}`,
    );
  }
  return lines;
}

/**
 * A page: the group mention (in the thread) or the DM to one member. Both carry the summary and,
 * from L2 on, the diagnosis context; the DM adds the thread link and Acknowledge / Escalate buttons.
 */
export function pageMessage(m: PageMessage, kind: "mention" | "dm"): SlackMessage {
  const { incident: i, page } = m;
  const ref = formatRef(i.id);
  const tier = tierLabel(page.tier);
  const head =
    kind === "mention"
      ? `:rotating_light: ${groupMention(m)} ${tier} page for *${ref}* — ${why(m)}.`
      : `:rotating_light: You are paged (${tier}, ${m.onCall?.user ? `on call in ${escapeMrkdwn(m.onCall.schedule)}` : `@${escapeMrkdwn(m.group.handle)}`}) for *${ref}* — ${why(m)}.`;
  const summary = [
    `*${escapeMrkdwn(clip(i.title, 200))}*`,
    `${escapeMrkdwn(m.modelName)} (\`${i.model}\`${i.modelVersion ? ` ${escapeMrkdwn(i.modelVersion)}` : ""}) · ${i.severity} · ${i.state} · opened ${slackDate(i.openedAt)}`,
    m.nextAt ? `Escalates further at ${slackDate(m.nextAt, "{time}")} unless acknowledged.` : "",
  ]
    .filter(Boolean)
    .join("\n");
  const blocks: KnownBlock[] = [
    { type: "section", text: { type: "mrkdwn", text: clip(`${head}\n${summary}`, 2900) } },
  ];
  for (const line of m.context ? contextLines(m.context) : []) {
    blocks.push({ type: "section", text: { type: "mrkdwn", text: clip(line, 2900) } });
  }
  if (kind === "dm") {
    if (m.threadLink) {
      blocks.push({
        type: "context",
        elements: [{ type: "mrkdwn", text: `<${m.threadLink}|Open the incident thread>` }],
      });
    }
    const value = `${i.id}:${page.tier}`;
    const elements: Extract<KnownBlock, { type: "actions" }>["elements"] = [
      {
        type: "button",
        action_id: ACTION_IDS.escalationAcknowledge,
        text: { type: "plain_text", text: "Acknowledge" },
        style: "primary",
        value,
      },
    ];
    if (page.tier < 3) {
      elements.push({
        type: "button",
        action_id: ACTION_IDS.incidentEscalate,
        text: { type: "plain_text", text: `Escalate to L${page.tier + 1}` },
        value,
      });
    }
    blocks.push({ type: "actions", block_id: "escalation_page_actions", elements });
  }
  const text = `${ref} ${tier} page: ${clip(i.title, 200)}`;
  return { text, blocks };
}

/** `/mlops oncall`: who is L1, L2 and L3 per model right now. */
export function onCallBlocks(list: OnCall[]): SlackMessage {
  const blocks: KnownBlock[] = [];
  const lines: string[] = [];
  for (const m of list) {
    const tiers = m.tiers.map((t) => {
      const people = t.members.length ? t.members.map((u) => `<@${u}>`).join(", ") : "_nobody_";
      const wait = t.tier < 3 ? ` · escalates after ${formatWait(t.waitMs)}` : "";
      if (t.group === "none") {
        const who = t.onCall?.user ? `<@${t.onCall.user}>` : "_nobody_";
        return `*L${t.tier}* on call in ${escapeMrkdwn(t.onCall?.schedule ?? "?")}: ${who}${wait}${t.dm ? " · DMed" : ""}`;
      }
      const onCall = t.onCall
        ? ` · on call in ${escapeMrkdwn(t.onCall.schedule)}: ${t.onCall.user ? `<@${t.onCall.user}>` : "_nobody_ (the group is DMed)"}`
        : "";
      return `*L${t.tier}* @${escapeMrkdwn(t.handle)}: ${people}${onCall}${wait}${t.dm ? " · DMed" : ""}`;
    });
    lines.push(
      `${m.modelName} (${m.model}): ${m.tiers.map((t) => `L${t.tier} ${t.members.length}`).join(", ")}`,
    );
    blocks.push({
      type: "section",
      text: {
        type: "mrkdwn",
        text: clip(`*${escapeMrkdwn(m.modelName)}* (\`${m.model}\`)\n${tiers.join("\n")}`, 2900),
      },
    });
  }
  return { text: `On call: ${lines.join("; ")}`, blocks: blocks.slice(0, 50) };
}
