/** The report as a Slack message: a header and one section per part, in mrkdwn. */
import type { KnownBlock } from "@slack/types";
import { formatNumber } from "../charts/render.js";
import { formatDuration } from "../shared/duration.js";
import { escapeMrkdwn } from "../shared/text.js";
import type { DurationStats, ModelReport, MonitorHealth } from "./report.js";

const HEALTH: Record<NonNullable<MonitorHealth["latest"]> | "none", string> = {
  ok: ":large_green_circle:",
  alert: ":red_circle:",
  skipped: ":white_circle:",
  error: ":warning:",
  none: ":black_circle:",
};

function day(d: Date): string {
  return d.toISOString().slice(0, 16).replace("T", " ");
}

/** "median 4m over 3 (mean 5m 30s)", or "none" when nothing was acknowledged or resolved. */
export function durationLine(s: DurationStats): string {
  if (s.count === 0 || s.medianMs === null || s.meanMs === null) return "none in the period";
  return `median ${formatDuration(s.medianMs)} over ${s.count} (mean ${formatDuration(s.meanMs)})`;
}

/** One line per monitor: its newest status and its runs by outcome. */
export function monitorLine(m: MonitorHealth): string {
  const total = m.runs.ok + m.runs.alert + m.runs.skipped + m.runs.error;
  if (total === 0) return `${HEALTH.none} *${m.monitor}*: no runs in the period`;
  const parts = (["ok", "alert", "skipped", "error"] as const)
    .filter((k) => m.runs[k] > 0)
    .map((k) => `${m.runs[k]} ${k}`);
  return `${HEALTH[m.latest ?? "none"]} *${m.monitor}*: last run ${m.latest ?? "none"} · ${total} runs: ${parts.join(", ")}`;
}

/** The report message; `heading` says whether it is the weekly digest or an answer to a command. */
export function reportMessage(r: ModelReport, heading: string): { text: string; blocks: KnownBlock[] } {
  const days = Math.round((r.to.getTime() - r.from.getTime()) / 86_400_000);
  const title = `${heading}: ${r.name} (${r.model}), ${day(r.from)} to ${day(r.to)} UTC (${days} days)`;
  const section = (text: string): KnownBlock => ({
    type: "section",
    text: { type: "mrkdwn", text: text.slice(0, 3000) },
  });
  const noisy = r.noisiest.length
    ? r.noisiest
        .map(
          (n) =>
            `\`${escapeMrkdwn(n.fingerprint)}\` fired ${n.firings} ${n.firings === 1 ? "time" : "times"}`,
        )
        .join("\n")
    : "nothing fired";
  const drift = r.drift.length
    ? r.drift
        .slice(0, 8)
        .map(
          (d) =>
            `\`${escapeMrkdwn(d.column)}\` ${escapeMrkdwn(d.method)}: max ${formatNumber(d.maxValue)}, last ${d.lastValue === null ? "—" : formatNumber(d.lastValue)}, drifted in ${d.driftedRuns} of ${d.runs} runs`,
        )
        .join("\n")
    : "no drift runs in the period";
  const blocks: KnownBlock[] = [
    { type: "header", text: { type: "plain_text", text: title.slice(0, 150) } },
    section(`*Monitors*\n${r.monitors.map(monitorLine).join("\n")}`),
    section(
      `*Incidents*: ${r.incidents.opened} opened, ${r.incidents.resolved} resolved, ${r.incidents.stillOpen} still open\n*Time to acknowledge*: ${durationLine(r.timeToAcknowledge)}\n*Time to mitigate*: ${durationLine(r.timeToMitigate)}\n*Time to resolve*: ${durationLine(r.timeToResolve)}`,
    ),
    section(`*Noisiest fingerprints*\n${noisy}`),
    ...(r.monitors.some((m) => m.monitor === "drift") ? [section(`*Drift scores*\n${drift}`)] : []),
    {
      type: "context",
      elements: [
        {
          type: "mrkdwn",
          text: r.charts.length
            ? `${r.charts.length} charts follow in the thread.`
            : "No charts: no monitor runs in the period.",
        },
      ],
    },
  ];
  return {
    text: `${title}. Incidents: ${r.incidents.opened} opened, ${r.incidents.resolved} resolved. Time to acknowledge: ${durationLine(r.timeToAcknowledge)}. Time to resolve: ${durationLine(r.timeToResolve)}.`,
    blocks,
  };
}
