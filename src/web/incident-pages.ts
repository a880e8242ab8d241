import type { Alert, Incident, TimelineEntry } from "../incidents/index.js";
import { formatRef } from "../incidents/index.js";
import { FIXED_MEANS, type ResponseMetrics, STAGE_NAMES, STAGES } from "../reports/response.js";
import { formatDuration } from "../shared/duration.js";
import { eventWords } from "./event-words.js";
import { html, type SafeHtml } from "./html.js";

/** The list's filters as the form shows them. */
export interface ListFilters {
  state: string;
  model: string;
  monitor: string;
  from: string;
  to: string;
}

/** Names for actor ids (the sandbox's people), when known. */
export type ActorNames = ReadonlyMap<string, string>;

const STATE_OPTIONS = ["active", "all", "open", "acknowledged", "mitigated", "resolved"] as const;

function when(date: Date | null | undefined): string {
  return date ? `${date.toISOString().slice(0, 19).replace("T", " ")} UTC` : "—";
}

/** A page in the incident log's frame. */
export function layout(
  title: string,
  body: SafeHtml,
  opts: { signedIn: boolean } = { signedIn: true },
): SafeHtml {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · mlops-bot incident log</title><link rel="stylesheet" href="/incidents/static/log.css"></head>
<body><header class="top"><a href="/incidents" class="brand">mlops-bot · incident log</a>${
    opts.signedIn
      ? html`<form method="post" action="/incidents/logout" class="logout"><button type="submit">Sign out</button></form>`
      : ""
  }</header><main>${body}</main></body></html>`;
}

/** The sign-in form: an API token, exchanged for a session cookie. */
export function loginPage(next: string, error?: string): SafeHtml {
  return layout(
    "Sign in",
    html`<h1>Sign in</h1>
<p>The incident log needs an API token: <code>MLOPS_API_TOKEN</code>, or one made with <code>npm run token:create -- &lt;name&gt;</code>.</p>
${error ? html`<p class="error" role="alert">${error}</p>` : ""}
<form method="post" action="/incidents/login" class="login">
<input type="hidden" name="next" value="${next}">
<label>API token <input type="password" name="token" autocomplete="current-password" required></label>
<button type="submit">Sign in</button></form>`,
    { signedIn: false },
  );
}

/** A page saying what was wrong with the request. */
export function problemPage(title: string, message: string): SafeHtml {
  return layout(
    title,
    html`<h1>${title}</h1><p class="error">${message}</p><p><a href="/incidents">Back to the list</a></p>`,
  );
}

function actor(id: string | null, names: ActorNames): string {
  if (!id) return "—";
  return names.get(id) ?? id;
}

function stateBadge(state: string): SafeHtml {
  return html`<span class="state state-${state}">${state}</span>`;
}

function span(ms: number | null): string {
  return ms === null ? "—" : formatDuration(ms);
}

/** The response table: per stage count, p50, p90 and mean; runbooks that fixed things; the noisiest fingerprints. */
export function responseSection(r: ResponseMetrics, period: { from: Date; to: Date }): SafeHtml {
  const day = (d: Date) => d.toISOString().slice(0, 10);
  return html`<h2>Response times of incidents opened ${day(period.from)} to ${day(period.to)}</h2>
<table class="response"><thead><tr><th>Stage</th><th>Incidents</th><th>p50</th><th>p90</th><th>Mean</th></tr></thead><tbody>
${STAGES.map((st) => {
  const s = r.stages[st];
  return html`<tr data-stage="${st}"><th>${STAGE_NAMES[st]}</th><td class="num">${s.count}</td><td class="num">${span(s.medianMs)}</td><td class="num">${span(s.p90Ms)}</td><td class="num">${span(s.meanMs)}</td></tr>`;
})}</tbody></table>
<p class="muted">Detect runs from the start of the data window that fired to the first firing; the others from the first firing.</p>
<h3>Runbooks</h3>
${
  r.runbooks.length
    ? html`<table class="response"><thead><tr><th>Runbook</th><th>Runs</th><th>Fixed</th><th>Did not fix</th></tr></thead><tbody>
${r.runbooks.map((b) => html`<tr data-runbook="${b.runbook}"><td>${b.runbook}</td><td class="num">${b.runs}</td><td class="num">${b.fixed}</td><td class="num">${b.runs - b.fixed}</td></tr>`)}</tbody></table>`
    : html`<p class="muted">No runbook ran on these incidents.</p>`
}
<p class="muted">${FIXED_MEANS}.</p>
<h3>Noisiest fingerprints</h3>
${
  r.noisiest.length
    ? html`<table class="response"><thead><tr><th>Fingerprint</th><th>Monitor</th><th>Subject</th><th>Firings</th></tr></thead><tbody>
${r.noisiest.map((n) => html`<tr><td><code>${n.fingerprint}</code></td><td>${n.monitor}</td><td>${n.subject}</td><td class="num">${n.firings}</td></tr>`)}</tbody></table>`
    : html`<p class="muted">Nothing fired.</p>`
}`;
}

/** The list with its filter form, and the response table of the incidents the filters cover. */
export function listPage(
  incidents: readonly Incident[],
  filters: ListFilters,
  choices: { models: readonly string[]; monitors: readonly string[] },
  names: ActorNames,
  response?: SafeHtml,
): SafeHtml {
  const select = (name: string, value: string, options: readonly string[], any?: string) =>
    html`<select name="${name}" id="f-${name}">${any ? html`<option value="">${any}</option>` : ""}${options.map(
      (o) => html`<option value="${o}"${o === value ? html` selected` : ""}>${o}</option>`,
    )}</select>`;
  return layout(
    "Incidents",
    html`<h1>Incidents</h1>
<form method="get" action="/incidents" class="filters">
<label for="f-state">State</label>${select("state", filters.state, STATE_OPTIONS)}
<label for="f-model">Model</label>${select("model", filters.model, choices.models, "any")}
<label for="f-monitor">Monitor</label>${select("monitor", filters.monitor, choices.monitors, "any")}
<label for="f-from">Opened from</label><input type="date" name="from" id="f-from" value="${filters.from}">
<label for="f-to">to</label><input type="date" name="to" id="f-to" value="${filters.to}">
<button type="submit">Filter</button></form>
${
  incidents.length
    ? html`<table class="incidents"><thead><tr><th>Incident</th><th>State</th><th>Title</th><th>Model</th><th>Monitor</th><th>Opened</th><th>Firings</th><th>Owner</th></tr></thead><tbody>
${incidents.map(
  (i) =>
    html`<tr data-ref="${formatRef(i.id)}"><td><a href="/incidents/${formatRef(i.id)}">${formatRef(i.id)}</a></td><td>${stateBadge(i.state)}</td><td>${i.title}</td><td>${i.model}</td><td>${i.monitor}</td><td>${when(i.openedAt)}</td><td class="num">${i.alertCount}</td><td>${actor(i.assignee, names)}</td></tr>`,
)}</tbody></table>`
    : html`<p class="muted empty">No incidents match.</p>`
}
${response ?? ""}`,
  );
}

function detailValue(value: unknown): string {
  if (value === null || value === undefined) return "—";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** One incident: its facts, the numbers that fired, the chart and the timeline. */
export function detailPage(
  incident: Incident,
  alert: Alert,
  timeline: readonly TimelineEntry[],
  chart: SafeHtml,
  chartLabel: string,
  names: ActorNames,
): SafeHtml {
  const ref = formatRef(incident.id);
  const facts: [string, string | SafeHtml][] = [
    ["State", stateBadge(incident.state)],
    ["Model", `${incident.model}${incident.modelVersion ? ` (${incident.modelVersion})` : ""}`],
    ["Monitor", `${incident.monitor} · ${incident.subject}`],
    ["Severity", incident.severity],
    ["Opened", when(incident.openedAt)],
    ["Last fired", `${when(incident.lastFiredAt)} · ${incident.alertCount} firing(s)`],
    [
      "Acknowledged",
      incident.acknowledgedAt
        ? `${when(incident.acknowledgedAt)} by ${actor(incident.acknowledgedBy, names)}`
        : "—",
    ],
    [
      "Resolved",
      incident.resolvedAt ? `${when(incident.resolvedAt)} by ${actor(incident.resolvedBy, names)}` : "—",
    ],
    ["Resolution", incident.resolution ?? "—"],
    ["Owner", actor(incident.assignee, names)],
  ];
  return layout(
    ref,
    html`<p><a href="/incidents">← All incidents</a></p>
<h1>${ref} · ${incident.title}</h1>
<p><a href="/incidents/${ref}/review.md">Post-incident review (Markdown)</a></p>
<dl class="facts">${facts.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl>
<h2>What fired</h2>
<p class="rule">Rule: ${alert.rule}</p>
<table class="metrics"><tbody>${Object.entries(alert.metrics).map(
      ([k, v]) => html`<tr><th>${k}</th><td class="num">${detailValue(v)}</td></tr>`,
    )}</tbody></table>
<h2>${chartLabel}</h2>
${chart}
<h2>Timeline</h2>
<table class="timeline"><thead><tr><th>When</th><th>What</th><th>Who</th><th>Via</th><th>Detail</th><th>Slack</th></tr></thead><tbody>
${timeline.map(
  (e) =>
    html`<tr class="event event-${e.kind}"><td>${when(e.at)}</td><td>${e.kind.replace(/_/g, " ")}</td><td>${actor(e.actor, names)}</td><td>${e.via}</td><td class="detail">${eventWords(e.kind, e.detail)}</td><td>${e.delivery ?? ""}</td></tr>`,
)}</tbody></table>`,
  );
}

/** The incident log's stylesheet (served as a file so the CSP can forbid inline styles). */
export const LOG_CSS = `
body { margin: 0; font-family: -apple-system, "Segoe UI", Roboto, Arial, sans-serif; font-size: 14px; color: #1d1c1d; }
main { padding: 16px 24px; max-width: 1200px; }
.top { display: flex; justify-content: space-between; align-items: center; background: #3f0e40; padding: 10px 24px; }
.top .brand { color: #fff; font-weight: 700; text-decoration: none; }
.top button { background: transparent; color: #fff; border: 1px solid #bcabbc; border-radius: 4px; padding: 2px 10px; cursor: pointer; }
h1 { font-size: 22px; } h2 { font-size: 16px; margin-top: 24px; }
.muted { color: #616061; } .error { color: #c01343; font-weight: 600; }
code { background: #f4f4f4; padding: 0 3px; border-radius: 3px; }
.login { display: flex; gap: 8px; align-items: end; } .login input { display: block; padding: 6px; width: 360px; }
.filters { display: flex; flex-wrap: wrap; gap: 6px 8px; align-items: center; margin-bottom: 14px; }
.filters select, .filters input { padding: 4px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid #e8e8e8; vertical-align: top; }
th { font-weight: 600; background: #fafafa; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.detail { font-family: Menlo, Consolas, monospace; font-size: 12px; overflow-wrap: anywhere; max-width: 420px; }
table.metrics { width: auto; min-width: 320px; }
table.response { width: auto; min-width: 480px; margin-bottom: 8px; }
.state { border-radius: 10px; padding: 1px 8px; font-size: 12px; font-weight: 600; background: #eee; }
.state-open { background: #fde2e9; color: #a0143d; } .state-acknowledged { background: #fff3d6; color: #8a5a00; }
.state-mitigated { background: #e1f0fb; color: #0b4f85; } .state-resolved { background: #dff3ea; color: #00573f; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; }
.facts dt { font-weight: 600; color: #616061; } .facts dd { margin: 0; }
.chart { width: 100%; max-width: 720px; height: auto; border: 1px solid #e8e8e8; border-radius: 6px; background: #fff; }
`;
