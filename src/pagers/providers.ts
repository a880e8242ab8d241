/**
 * The HTTP requests a pager call makes, per provider, and how an answer is read:
 * - PagerDuty Events API v2: `POST {api_url}/v2/enqueue`, `dedup_key` = the incident's ref;
 * - Opsgenie Alert API: `POST {api_url}/v2/alerts` (alias = ref), `…/{alias}/acknowledge|close?identifierType=alias`;
 * - a webhook: a JSON POST signed like the retraining webhooks (`v1=` HMAC-SHA256 over `v1:<ts>:<body>`).
 * Every answer is ok, or a failure that says whether a retry may help and how long the provider
 * asked us to wait (Retry-After).
 */
import type { PagerConfig } from "../config/pagers.js";
import type { Incident } from "../incidents/index.js";
import { SIGNATURE_HEADER, signWebhook, TIMESTAMP_HEADER } from "../retraining/adapters.js";
import { type PagerAction, parseRetryAfter } from "./model.js";

/** One request, ready to send. */
export interface PagerRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** What a pager call came to. */
export type PagerOutcome =
  | { ok: true; result: Record<string, unknown> }
  | { ok: false; retry: boolean; error: string; retryAfterMs?: number };

/** What the request says about the incident. */
export interface PageContent {
  incident: Incident;
  ref: string;
  action: PagerAction;
  tier?: number | undefined;
  /** The incident's thread, when known. */
  link?: string | null | undefined;
  /** The on-call this trigger is for (their own rule), as a Slack user id. */
  person?: string | undefined;
}

/** The provider's user for Slack user `slack` (the reverse of the pager's `users`), if mapped. */
export function providerUserOf(pager: PagerConfig, slack: string): string | undefined {
  return Object.entries(pager.users).find(([, s]) => s === slack)?.[0];
}

const OPSGENIE_PRIORITY = { critical: "P1", warning: "P3", info: "P5" } as const;

/** The request of `action` on `pager` for an incident. `now` is the signature's time. */
export function buildRequest(pager: PagerConfig, page: PageContent, now: Date): PagerRequest {
  const { incident: i, ref, action } = page;
  const summary = `${ref} ${i.title}`.slice(0, 1024);
  const providerUser = page.person ? providerUserOf(pager, page.person) : undefined;
  const person = page.person
    ? { on_call: page.person, ...(providerUser ? { on_call_provider_user: providerUser } : {}) }
    : {};
  switch (pager.type) {
    case "pagerduty": {
      const body =
        action === "trigger"
          ? {
              routing_key: pager.routing_key,
              event_action: "trigger",
              dedup_key: ref,
              payload: {
                summary,
                source: `mlops-bot/${i.model}`,
                severity: i.severity,
                timestamp: i.openedAt.toISOString(),
                component: i.model,
                group: page.tier ? `L${page.tier}` : undefined,
                class: i.monitor,
                custom_details: {
                  incident: ref,
                  model: i.model,
                  monitor: i.monitor,
                  subject: i.subject,
                  ...person,
                },
              },
              ...(page.link ? { links: [{ href: page.link, text: `${ref} in Slack` }] } : {}),
            }
          : { routing_key: pager.routing_key, event_action: action, dedup_key: ref };
      return {
        url: `${pager.api_url.replace(/\/$/, "")}/v2/enqueue`,
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      };
    }
    case "opsgenie": {
      const base = `${pager.api_url.replace(/\/$/, "")}/v2/alerts`;
      const headers = { "content-type": "application/json", authorization: `GenieKey ${pager.api_key}` };
      if (action === "trigger")
        return {
          url: base,
          headers,
          body: JSON.stringify({
            message: summary.slice(0, 130),
            alias: ref,
            description: `${i.title}\nModel: ${i.model} · monitor: ${i.monitor} · subject: ${i.subject}${page.link ? `\n${page.link}` : ""}`,
            // A person's own rule pages that person too, when Opsgenie knows them (pagers.<name>.users).
            responders: providerUser
              ? [
                  ...pager.responders,
                  providerUser.includes("@")
                    ? { type: "user", username: providerUser }
                    : { type: "user", id: providerUser },
                ]
              : pager.responders,
            priority: OPSGENIE_PRIORITY[i.severity],
            source: "mlops-bot",
            entity: i.model,
            tags: [i.model, i.monitor, i.severity],
            details: { incident: ref, model: i.model, monitor: i.monitor, subject: i.subject, ...person },
          }),
        };
      const verb = action === "acknowledge" ? "acknowledge" : "close";
      return {
        url: `${base}/${encodeURIComponent(ref)}/${verb}?identifierType=alias`,
        headers,
        body: JSON.stringify({ source: "mlops-bot", user: "mlops-bot", note: `${verb}d in Slack` }),
      };
    }
    case "webhook": {
      const body = JSON.stringify({
        event: `page.${action}`,
        incident: ref,
        title: i.title,
        severity: i.severity,
        model: i.model,
        state: i.state,
        ...(page.tier ? { tier: page.tier } : {}),
        ...(page.link ? { link: page.link } : {}),
        ...person,
      });
      const ts = Math.floor(now.getTime() / 1000);
      return {
        url: pager.url,
        headers: {
          "content-type": "application/json",
          [TIMESTAMP_HEADER]: String(ts),
          [SIGNATURE_HEADER]: signWebhook(pager.secret, ts, body),
          "x-mlops-event": `page.${action}`,
        },
        body,
      };
    }
  }
}

const MAX_ANSWER = 4096;

/** Sends one request; never throws. A 2xx is ok; 408, 429 and 5xx (and network errors) may be retried. */
export async function sendRequest(req: PagerRequest, now: Date, timeoutMs = 10_000): Promise<PagerOutcome> {
  try {
    const res = await fetch(req.url, {
      method: "POST",
      headers: req.headers,
      body: req.body,
      signal: AbortSignal.timeout(timeoutMs),
      redirect: "error",
    });
    const text = (await res.text()).slice(0, MAX_ANSWER);
    let parsed: Record<string, unknown> = {};
    try {
      const v = text ? JSON.parse(text) : {};
      if (v && typeof v === "object" && !Array.isArray(v)) parsed = v as Record<string, unknown>;
    } catch {
      // Not JSON: only the status counts.
    }
    if (res.ok) return { ok: true, result: { status: res.status, ...pick(parsed) } };
    const retryAfterMs = parseRetryAfter(res.headers.get("retry-after"), now);
    return {
      ok: false,
      retry: res.status >= 500 || res.status === 408 || res.status === 429,
      error: `HTTP ${res.status}${text ? `: ${text.slice(0, 300)}` : ""}`,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    };
  } catch (err) {
    const e = err as Error;
    return {
      ok: false,
      retry: true,
      error: e.name === "TimeoutError" ? `timed out after ${timeoutMs} ms` : e.message,
    };
  }
}

/** The provider's ids worth keeping: PagerDuty's dedup_key, Opsgenie's requestId. */
function pick(answer: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of ["dedup_key", "requestId", "message", "result"])
    if (typeof answer[k] === "string") out[k] = answer[k];
  return out;
}
