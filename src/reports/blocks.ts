/** The report as a Slack message: a header and one section per part, in mrkdwn. */
import type { KnownBlock } from "@slack/types";
import { formatNumber } from "../charts/render.js";
import { formatDuration } from "../shared/duration.js";
import { escapeMrkdwn } from "../shared/text.js";
import type { ModelReport, MonitorHealth } from "./report.js";
import { type DurationStats, FIXED_MEANS, type ResponseMetrics, STAGE_NAMES, STAGES } from "./response.js";

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

/** "3 · p50 4m · p90 9m · mean 5m 30s", or "none" when no incident reached the stage. */
export function durationLine(s: DurationStats): string {
  if (s.count === 0 || s.medianMs === null || s.p90Ms === null || s.meanMs === null)
    return "none in the period";
  return `${s.count} · p50 ${formatDuration(s.medianMs)} · p90 ${formatDuration(s.p90Ms)} · mean ${formatDuration(s.meanMs)}`;
}

/** One line per runbook: how many of its runs fixed their incident. */
export function runbookLines(r: ResponseMetrics): string[] {
  return r.runbooks.map(
    (b) =>
      `\`${escapeMrkdwn(b.runbook)}\`: fixed ${b.fixed} of ${b.runs} ${b.runs === 1 ? "run" : "runs"}${b.runs > b.fixed ? ` (${b.runs - b.fixed} did not)` : ""}`,
  );
}

/** At most this many incidents are listed in the on-call section; the rest are counted. */
const LISTED_INCIDENTS = 10;

/**
 * The on-call section: MTTA and MTTR (the means of the acknowledge and resolve stages), the pager
 * outcomes, then per paged incident who was on call, where it was paged beyond Slack, and who
 * acknowledged from where.
 */
export function onCallLines(r: ModelReport): string[] {
  const mean = (ms: number | null) => (ms === null ? "—" : formatDuration(ms));
  const lines = [
    `MTTA ${mean(r.response.stages.acknowledge.meanMs)} · MTTR ${mean(r.response.stages.resolve.meanMs)} (means over the incidents opened in the period)`,
  ];
  const outcomes = r.oncall.pagerOutcomes.map(
    (p) =>
      `${escapeMrkdwn(p.pager)}: ${(["accepted", "failed", "cancelled"] as const)
        .filter((k) => p[k] > 0)
        .map((k) => `${p[k]} ${k}`)
        .join(", ")}`,
  );
  lines.push(`Pages beyond Slack: ${outcomes.length ? outcomes.join(" · ") : "none"}`);
  const paged = r.oncall.incidents.filter((i) => i.pages.length || i.pagers.length || i.acknowledged);
  for (const i of paged.slice(0, LISTED_INCIDENTS)) {
    const parts: string[] = [];
    for (const p of i.pages)
      parts.push(
        `paged L${p.tier}${p.schedule ? ` (on call in ${escapeMrkdwn(p.schedule)}: ${p.onCall ? `<@${p.onCall}>` : "nobody"})` : ""}`,
      );
    if (i.pagers.length)
      parts.push(
        `beyond Slack: ${i.pagers.map((p) => `${escapeMrkdwn(p.pager)} ${p.outcome}${p.person ? ` (<@${p.person}>'s rule)` : ""}`).join(", ")}`,
      );
    parts.push(
      i.acknowledged
        ? `acknowledged by <@${i.acknowledged.by}> from ${escapeMrkdwn(i.acknowledged.from)} after ${formatDuration(i.acknowledged.afterMs)}`
        : "not acknowledged",
    );
    lines.push(`• *INC-${i.id}* ${escapeMrkdwn(i.title.slice(0, 80))}: ${parts.join(" · ")}`);
  }
  if (paged.length > LISTED_INCIDENTS) lines.push(`…and ${paged.length - LISTED_INCIDENTS} more`);
  return lines;
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
  const noisy = r.response.noisiest.length
    ? r.response.noisiest
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
      `*Incidents*: ${r.incidents.opened} opened, ${r.incidents.resolved} resolved, ${r.incidents.stillOpen} still open\n${STAGES.map((st) => `*${STAGE_NAMES[st]}*: ${durationLine(r.response.stages[st])}`).join("\n")}\n_Detect runs from the start of the data window that fired to the first firing; the others from the first firing._`,
    ),
    section(`*Noisiest fingerprints*\n${noisy}`),
    section(
      `*Runbooks* (${FIXED_MEANS})\n${runbookLines(r.response).join("\n") || "no runbook ran on an incident in the period"}`,
    ),
    ...(r.monitors.some((m) => m.monitor === "drift") ? [section(`*Drift scores*\n${drift}`)] : []),
    section(`*On call and pages*\n${onCallLines(r).join("\n")}`),
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
    text: `${title}. Incidents: ${r.incidents.opened} opened, ${r.incidents.resolved} resolved. ${STAGES.map((st) => `${STAGE_NAMES[st]}: ${durationLine(r.response.stages[st])}`).join(". ")}.`,
    blocks,
  };
}
