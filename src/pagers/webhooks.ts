/**
 * Answers that come back from a pager's provider: each is verified against the raw body before it
 * is read, then turned into "this person acknowledged (or resolved) this incident there".
 * - PagerDuty v3 webhooks: `X-PagerDuty-Signature: v1=<hex HMAC-SHA256 of the raw body>`, several
 *   comma-separated while a secret rotates; the event's signed `occurred_at` gives the replay window.
 * - Opsgenie's outgoing webhook integration cannot sign, but sends custom headers: the integration
 *   is set up with `X-Mlops-Webhook-Secret: <webhook_secret>`, compared in constant time.
 * - Our own webhook: `X-Mlops-Timestamp` and `X-Mlops-Signature` as the retraining webhooks sign.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { PagerConfig } from "../config/pagers.js";
import { SIGNATURE_HEADER, signWebhook, TIMESTAMP_HEADER } from "../retraining/adapters.js";

/** How old a signed answer may be (where the provider gives a time). */
export const REPLAY_WINDOW_MS = 5 * 60_000;
/** The header Opsgenie's outgoing webhook is set up to send with the shared secret. */
export const OPSGENIE_SECRET_HEADER = "x-mlops-webhook-secret";

/** An answer from a provider, verified. `ignored` says why it changes nothing. */
export type PagerAnswer =
  | {
      kind: "answer";
      action: "acknowledge" | "resolve";
      ref: string;
      /** The provider's user (PagerDuty user id, Opsgenie user name), and how they are called. */
      user: string;
      userName?: string | undefined;
    }
  | { kind: "ignored"; why: string };

/** Headers as fastify hands them over. */
export type Headers = Record<string, string | string[] | undefined>;

function header(headers: Headers, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(",") : v;
}

/** Equal in constant time (over digests, so lengths leak nothing either). */
export function safeEqual(a: string, b: string): boolean {
  const da = createHash("sha256").update(a).digest();
  const db = createHash("sha256").update(b).digest();
  return timingSafeEqual(da, db) && a.length === b.length;
}

/** Why the request is refused (401), or undefined when its signature holds. */
export function verifyAnswer(
  pager: PagerConfig,
  headers: Headers,
  raw: string,
  now: Date,
): string | undefined {
  switch (pager.type) {
    case "pagerduty": {
      if (!pager.webhook_secret) return "this pager has no webhook_secret";
      const given = header(headers, "x-pagerduty-signature");
      if (!given) return "missing X-PagerDuty-Signature";
      const expected = `v1=${createHmac("sha256", pager.webhook_secret).update(raw).digest("hex")}`;
      const ok = given
        .split(",")
        .map((s) => s.trim())
        .some((s) => safeEqual(s, expected));
      if (!ok) return "bad signature";
      const at = Date.parse(String(readJson(raw)?.event?.occurred_at ?? ""));
      if (!Number.isNaN(at) && Math.abs(now.getTime() - at) > REPLAY_WINDOW_MS) return "stale event";
      return undefined;
    }
    case "opsgenie": {
      if (!pager.webhook_secret) return "this pager has no webhook_secret";
      const given = header(headers, OPSGENIE_SECRET_HEADER);
      if (!given) return `missing ${OPSGENIE_SECRET_HEADER}`;
      return safeEqual(given, pager.webhook_secret) ? undefined : "bad secret";
    }
    case "webhook": {
      const ts = header(headers, TIMESTAMP_HEADER);
      const sig = header(headers, SIGNATURE_HEADER);
      if (!ts || !sig || !/^\d+$/.test(ts)) return "missing signature headers";
      if (!safeEqual(sig, signWebhook(pager.secret, Number(ts), raw))) return "bad signature";
      if (Math.abs(now.getTime() - Number(ts) * 1000) > REPLAY_WINDOW_MS) return "stale timestamp";
      return undefined;
    }
  }
}

// biome-ignore lint/suspicious/noExplicitAny: provider payloads are read field by field and checked
function readJson(raw: string): any {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

const REF = /\bINC-\d+\b/;

/** What a verified body says. A body that is not an answer we act on is `ignored` (and answered 202). */
export function parseAnswer(pager: PagerConfig, raw: string): PagerAnswer {
  const body = readJson(raw);
  if (!body || typeof body !== "object") return { kind: "ignored", why: "not JSON" };
  switch (pager.type) {
    case "pagerduty": {
      const e = body.event;
      const action =
        e?.event_type === "incident.acknowledged"
          ? "acknowledge"
          : e?.event_type === "incident.resolved"
            ? "resolve"
            : null;
      if (!action) return { kind: "ignored", why: `event ${String(e?.event_type ?? "?")}` };
      // Our trigger's dedup_key comes back as the incident's incident_key; the title starts with the ref too.
      const ref = [e.data?.incident_key, e.data?.title]
        .map((s) => (typeof s === "string" ? REF.exec(s)?.[0] : undefined))
        .find(Boolean);
      if (!ref) return { kind: "ignored", why: "not an incident of this bot" };
      const user = e.agent?.type === "user_reference" && typeof e.agent.id === "string" ? e.agent.id : null;
      if (!user) return { kind: "ignored", why: "not done by a user" };
      return {
        kind: "answer",
        action,
        ref,
        user,
        userName: typeof e.agent.summary === "string" ? e.agent.summary : undefined,
      };
    }
    case "opsgenie": {
      const action =
        body.action === "Acknowledge" ? "acknowledge" : body.action === "Close" ? "resolve" : null;
      if (!action) return { kind: "ignored", why: `action ${String(body.action ?? "?")}` };
      const ref = typeof body.alert?.alias === "string" ? REF.exec(body.alert.alias)?.[0] : undefined;
      if (!ref) return { kind: "ignored", why: "not an alert of this bot" };
      const user = typeof body.alert?.username === "string" ? body.alert.username : null;
      if (!user || user === "mlops-bot") return { kind: "ignored", why: "not done by a user" };
      return { kind: "answer", action, ref, user };
    }
    case "webhook": {
      const action = body.action === "acknowledge" || body.action === "resolve" ? body.action : null;
      if (!action) return { kind: "ignored", why: `action ${String(body.action ?? "?")}` };
      const ref = typeof body.incident === "string" ? REF.exec(body.incident)?.[0] : undefined;
      if (!ref || typeof body.user !== "string")
        return { kind: "ignored", why: "expected incident and user" };
      return { kind: "answer", action, ref, user: body.user };
    }
  }
}
