import { html, type SafeHtml } from "../../../web/html.js";
import type { SandboxWorkspace } from "../workspace.js";
import { actingUsers, groupsOf } from "./fragments.js";

/** What the page shell shows around the live parts. */
export interface PageOptions {
  workspace: SandboxWorkspace;
  /** The channel shown first (id). */
  channel: string;
  /** The user acted as first (id). */
  user: string;
  /** Whether the demo traffic control is offered. */
  demo: boolean;
  /** Whether the incident log link is offered. */
  incidentLog: boolean;
}

/**
 * The sandbox page: sidebar (user switcher, channels and DMs, demo control), the channel with its
 * message box, and a dialog for modals. The live parts are HTML fragments the script fetches and
 * refreshes on server-sent events; no inline script or style, so the CSP can forbid them.
 */
export function pageHtml(o: PageOptions): SafeHtml {
  const users = actingUsers(o.workspace);
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${o.workspace.team.name} · mlops-bot sandbox</title>
<link rel="stylesheet" href="/sandbox/static/sandbox.css">
<script src="/sandbox/static/sandbox.js" defer></script>
</head>
<body data-channel="${o.channel}" data-user="${o.user}">
<div class="app">
  <nav class="sidebar">
    <div class="team">${o.workspace.team.name}<span class="team-sub">Slack sandbox</span></div>
    <label class="switcher">Acting as
      <select id="user-switcher" aria-label="Acting as">
        ${users.map((u) => {
          const groups = groupsOf(o.workspace, u.id);
          return html`<option value="${u.id}" data-name="${u.name}"${u.id === o.user ? html` selected` : ""}>${u.real_name}${groups.length ? ` — @${groups.join(", @")}` : " — no group"}</option>`;
        })}
      </select>
    </label>
    <div id="sidebar-channels"></div>
    ${
      o.demo
        ? html`<section class="demo" id="demo">
      <h2>Demo traffic</h2>
      <p class="muted" id="demo-status">Not running.</p>
      <div class="demo-buttons">
        <button type="button" class="bk-button primary" data-demo="start" data-fault="none">Start demo traffic</button>
        <button type="button" class="bk-button danger" data-demo="inject" data-fault="drift">Inject drift</button>
        <button type="button" class="bk-button default" data-demo="inject" data-fault="drift_segment">Inject drift (segment only: country=IT)</button>
        <button type="button" class="bk-button default" data-demo="inject" data-fault="quality">Inject bad data</button>
        <button type="button" class="bk-button default" data-demo="inject" data-fault="confidence">Collapse confidence</button>
        <button type="button" class="bk-button default" data-demo="stop">Stop</button>
      </div>
      <p class="muted small">Streams the fraud detector's predictions into the bot. After injecting drift, type <code>/mlops check fraud-detector</code>; a confidence collapse alerts on its own within seconds.</p>
    </section>`
        : ""
    }
    ${o.incidentLog ? html`<a class="incident-log-link" href="/sandbox/incident-log" target="_blank" rel="noopener">Incident log ↗</a>` : ""}
  </nav>
  <main class="channel">
    <header class="channel-header"><h1 id="channel-title"></h1><span class="muted" id="live-state">connecting…</span></header>
    <div id="messages" class="messages" aria-live="polite"></div>
    <form id="composer" class="composer">
      <textarea name="text" rows="2" placeholder="Message, or /mlops help" aria-label="Message" autocomplete="off"></textarea>
      <button type="submit" class="bk-button primary">Send</button>
      <div id="composer-error" class="composer-error" role="alert"></div>
    </form>
  </main>
</div>
<div id="modal-layer" class="modal-layer" hidden></div>
</body>
</html>`;
}
