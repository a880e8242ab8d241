import type { IncidentState } from "../../incidents/index.js";

/** Emoji per incident state, so a channel reads at a glance. */
export const STATE_EMOJI: Record<IncidentState, string> = {
  open: ":red_circle:",
  acknowledged: ":large_orange_circle:",
  mitigated: ":large_yellow_circle:",
  resolved: ":white_check_mark:",
};

/** Emoji per severity. */
export const SEVERITY_EMOJI = {
  info: ":information_source:",
  warning: ":warning:",
  critical: ":rotating_light:",
} as const;

/** A Slack date token: each reader sees it in their own time zone; the fallback is UTC. */
export function slackDate(date: Date, format = "{date_short_pretty} {time}"): string {
  const fallback = `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
  return `<!date^${Math.floor(date.getTime() / 1000)}^${format}|${fallback}>`;
}

/** A user id as a mention, anything else (system, monitor, alertmanager) as itself. */
export function who(actor: string | null | undefined): string {
  if (!actor) return "nobody";
  return /^[UW][A-Z0-9]{2,}$/.test(actor) ? `<@${actor}>` : actor;
}

/** Cuts `text` to `max` characters with an ellipsis. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Metrics as `name` value pairs on one line; numbers to four significant digits. */
export function formatMetrics(metrics: Record<string, number | string | null>, max = 12): string {
  const entries = Object.entries(metrics).slice(0, max);
  return entries
    .map(([k, v]) => `\`${k}\` ${typeof v === "number" ? Number(v.toPrecision(4)) : (v ?? "—")}`)
    .join(" · ");
}
