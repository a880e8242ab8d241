/**
 * The post-incident review: a Markdown draft built from an incident and its timeline alone, so
 * the file posted at resolve time and the one served later say the same things (the served one
 * also lists follow-ups added since). Pure: no database, no clock.
 */
import { formatNumber } from "../charts/render.js";
import { formatDuration } from "../shared/duration.js";
import { type Alert, EVENT_KINDS, formatRef, type Incident, type IncidentEvent } from "./model.js";

/** What a review is built from. */
export interface ReviewInput {
  incident: Incident;
  alert: Alert;
  /** The model's display name. */
  modelName: string;
  /** Oldest first. */
  timeline: readonly IncidentEvent[];
  /** How an actor id is written (a person's name when known, else the id). */
  nameOf: (actor: string) => string;
}

/** The file name of an incident's review; unique within its thread (an incident resolves once). */
export function reviewFileName(incidentId: number): string {
  return `${formatRef(incidentId)}-review.md`;
}

/** The timeline kinds the retraining feature writes on an incident. */
const RETRAINING_KINDS = new Set([
  "retrain_requested",
  "pipeline_started",
  "pipeline_failed",
  "candidate_reported",
  "candidate_approval",
  "candidate_approved",
  "candidate_rejected",
  "candidate_expired",
  "canary_started",
  "canary_compared",
  "promote_requested",
  "rollback_requested",
  "promoted",
  "rolled_back",
  "deploy_failed",
]);

const str = (v: unknown): string => (v === null || v === undefined ? "" : String(v));

function when(d: Date | null | undefined): string {
  return d ? `${d.toISOString().slice(0, 19).replace("T", " ")} UTC` : "—";
}

function num(v: unknown): string {
  if (typeof v === "number") return formatNumber(v);
  if (v === null || v === undefined) return "—";
  return String(v);
}

/** One line of free text, safe inside a Markdown list item or table cell. */
export function oneLine(text: string, max = 2000): string {
  return text.replace(/\s+/g, " ").replace(/\|/g, "\\|").trim().slice(0, max);
}

/**
 * When the bad data began, as far as the detector can tell: the start of the monitor window whose
 * data first crossed the threshold (`dataFrom` on the opening event). Null when the detector has
 * no window (Alertmanager, probes).
 */
export function dataFromOf(timeline: readonly Pick<IncidentEvent, "kind" | "detail">[]): Date | null {
  const opened = timeline.find((e) => e.kind === EVENT_KINDS.opened);
  const raw = opened?.detail.dataFrom;
  if (typeof raw !== "string") return null;
  const d = new Date(raw);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** The follow-ups added to an incident, oldest first. */
export function followupsOf(timeline: readonly IncidentEvent[]): { at: Date; actor: string; text: string }[] {
  return timeline
    .filter((e) => e.kind === EVENT_KINDS.followupAdded)
    .map((e) => ({ at: e.at, actor: e.actor, text: str(e.detail.text) }));
}

function stageRow(stage: string, at: Date | null, from: Date, by: string): string {
  const after = at ? formatDuration(Math.max(0, at.getTime() - from.getTime())) : "—";
  return `| ${stage} | ${when(at)} | ${at ? after : "not reached"} | ${at ? by : "—"} |`;
}

function runbookLines(events: readonly IncidentEvent[], nameOf: ReviewInput["nameOf"]): string[] {
  const finished = new Map<string, IncidentEvent>();
  for (const e of events) if (e.kind === "runbook_finished") finished.set(str(e.detail.run), e);
  const rows = events
    .filter((e) => e.kind === "runbook_started")
    .map((s) => {
      const f = finished.get(str(s.detail.run));
      const d = f?.detail ?? {};
      const result = f
        ? `${str(d.status)}${d.exitCode !== null && d.exitCode !== undefined ? ` (exit ${str(d.exitCode)})` : ""}`
        : "still running";
      const verify = f ? (d.verify ? str(d.verify) : "none") : "—";
      const took = typeof d.durationMs === "number" ? formatDuration(d.durationMs) : "—";
      return `| ${when(s.at)} | ${oneLine(str(s.detail.name))} | ${nameOf(s.actor)} | ${result} | ${verify} | ${took} |`;
    });
  if (!rows.length) return ["No runbook was run."];
  return ["| started | runbook | by | result | verification | took |", "|---|---|---|---|---|---|", ...rows];
}

function pageLines(events: readonly IncidentEvent[], nameOf: ReviewInput["nameOf"]): string[] {
  const pages = events.filter((e) => e.kind === "paged");
  if (!pages.length) return ["Nobody was paged."];
  return pages.map((p) => {
    const members = Array.isArray(p.detail.members) ? (p.detail.members as unknown[]).map(str) : [];
    // Answered: the first acknowledgement (of the incident or of a page) after this page.
    const answer = events.find(
      (e) =>
        e.at.getTime() >= p.at.getTime() &&
        e.id > p.id &&
        (e.kind === EVENT_KINDS.acknowledged || e.kind === "page_acknowledged"),
    );
    const tier = typeof p.detail.tier === "number" ? `L${p.detail.tier}` : "a tier";
    const group = p.detail.group ? ` @${str(p.detail.group)}` : "";
    const whom = members.length ? ` (${members.map(nameOf).join(", ")})` : "";
    const why = p.detail.reason ? `, ${str(p.detail.reason)}` : "";
    const onCall = p.detail.schedule
      ? `, on call in ${str(p.detail.schedule)}: ${p.detail.onCall ? nameOf(str(p.detail.onCall)) : "nobody"}`
      : "";
    const from = answer?.detail.answeredFrom ? ` from ${str(answer.detail.answeredFrom)}` : "";
    const answered = answer
      ? `answered by ${nameOf(answer.actor)}${from} at ${when(answer.at)}, after ${formatDuration(Math.max(0, answer.at.getTime() - p.at.getTime()))}`
      : "not answered";
    return `- ${when(p.at)}: paged ${tier}${group}${whom}${why}${onCall}; ${answered}.`;
  });
}

/** The pages sent beyond Slack (PagerDuty, Opsgenie, a webhook): what each provider was told. */
const PAGER_KINDS = new Set(["pager_sent", "pager_failed", "pager_skipped", "pager_answer_unmapped"]);

function pagerLines(events: readonly IncidentEvent[]): string[] {
  return events
    .filter((e) => PAGER_KINDS.has(e.kind) && e.detail.what)
    .map((e) => `- ${when(e.at)}: ${oneLine(str(e.detail.what), 300)}.`);
}

function retrainingLines(events: readonly IncidentEvent[], nameOf: ReviewInput["nameOf"]): string[] {
  const steps = events.filter((e) => RETRAINING_KINDS.has(e.kind));
  if (!steps.length) return ["No retraining."];
  return steps.map((e) => {
    const facts = Object.entries(e.detail)
      .filter(([, v]) => v !== null && v !== undefined && typeof v !== "object")
      .slice(0, 6)
      .map(([k, v]) => `${k.replace(/_/g, " ")} ${num(v)}`)
      .join(", ");
    return `- ${when(e.at)}: ${e.kind.replace(/_/g, " ")} by ${nameOf(e.actor)}${facts ? ` (${oneLine(facts, 400)})` : ""}.`;
  });
}

/** The review of an incident as Markdown. */
export function reviewMarkdown(input: ReviewInput): string {
  const { incident: i, alert, timeline, nameOf } = input;
  const ref = formatRef(i.id);
  const dataFrom = dataFromOf(timeline);
  const opened = timeline.find((e) => e.kind === EVENT_KINDS.opened);
  const fired = (opened?.detail.metrics ?? alert.metrics) as Record<string, unknown>;
  const rule = str(opened?.detail.rule) || alert.rule;
  const end = i.resolvedAt;
  const impactFrom = dataFrom ?? i.openedAt;
  const followups = followupsOf(timeline);
  const out: string[] = [
    `# ${ref} post-incident review: ${oneLine(i.title, 300)}`,
    "",
    `_Draft written by mlops-bot from the incident's timeline${end ? " when it was resolved" : " (the incident is not resolved yet)"}. Add follow-ups with \`/mlops followup ${ref} <text>\`._`,
    "",
    "## Summary",
    "",
    `- **Model:** ${oneLine(input.modelName)} (\`${i.model}\`${i.modelVersion ? `, version ${oneLine(i.modelVersion)}` : ""})`,
    `- **Monitor:** ${i.monitor} · ${oneLine(i.subject)}`,
    `- **Severity:** ${i.severity}`,
    `- **State:** ${i.state}`,
    `- **Opened:** ${when(i.openedAt)}; ${end ? `resolved ${when(end)} by ${nameOf(i.resolvedBy ?? "system")}, after ${formatDuration(Math.max(0, end.getTime() - i.openedAt.getTime()))}` : "not resolved yet"}`,
    `- **Firings:** ${i.alertCount}`,
    "",
    "## Impact window",
    "",
    `- **Bad data from:** ${dataFrom ? `${when(dataFrom)} (the start of the monitor window whose data first crossed the threshold)` : "not known (the detector has no data window)"}`,
    `- **First firing:** ${when(i.openedAt)}`,
    `- **Last firing:** ${when(i.lastFiredAt)}`,
    `- **Ended:** ${end ? when(end) : "not yet"}`,
    `- **Length:** ${end ? formatDuration(Math.max(0, end.getTime() - impactFrom.getTime())) : "still open"}`,
    "",
    "## What fired",
    "",
    `- **Rule:** ${oneLine(rule) || "—"}`,
    "",
    "| number | value |",
    "|---|---|",
    ...Object.entries(fired).map(([k, v]) => `| ${oneLine(k, 100)} | ${oneLine(num(v), 200)} |`),
    "",
    "## Response times",
    "",
    "| stage | at | after | by |",
    "|---|---|---|---|",
    dataFrom
      ? `| detect | ${when(i.openedAt)} | ${formatDuration(Math.max(0, i.openedAt.getTime() - dataFrom.getTime()))} after the bad data began | ${nameOf(opened?.actor ?? alert.source)} |`
      : `| detect | ${when(i.openedAt)} | not measurable (no data window) | ${nameOf(opened?.actor ?? alert.source)} |`,
    stageRow("acknowledge", i.acknowledgedAt, i.openedAt, nameOf(i.acknowledgedBy ?? "—")),
    stageRow("mitigate", i.mitigatedAt, i.openedAt, nameOf(i.mitigatedBy ?? "—")),
    stageRow("resolve", i.resolvedAt, i.openedAt, nameOf(i.resolvedBy ?? "—")),
    "",
    "Acknowledge, mitigate and resolve are measured from the first firing.",
    "",
    "## Runbook runs",
    "",
    ...runbookLines(timeline, nameOf),
    "",
    "## Pages",
    "",
    ...pageLines(timeline, nameOf),
    ...pagerLines(timeline),
    "",
    "## Retraining",
    "",
    ...retrainingLines(timeline, nameOf),
    "",
    "## Resolution",
    "",
    end ? `${oneLine(i.resolution ?? "No note was given.")}` : "Not resolved yet.",
    "",
    "## Follow-ups",
    "",
    ...(followups.length
      ? followups.map((f) => `- [ ] ${oneLine(f.text)} (added by ${nameOf(f.actor)}, ${when(f.at)})`)
      : ["None yet."]),
    "",
  ];
  return out.join("\n");
}
