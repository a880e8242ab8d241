/**
 * A local PagerDuty for tests, built from its public documentation:
 * - Events API v2, https://developer.pagerduty.com/docs/events-api-v2/trigger-events/ and
 *   https://developer.pagerduty.com/api-reference/368ae3d938c9e-send-an-event-to-pager-duty :
 *   `POST /v2/enqueue` → 202 `{status: "success", message: "Event processed", dedup_key}`;
 *   400 `{status: "invalid event", message: "Event object is invalid", errors: [...]}`;
 *   429 when throttled (with Retry-After here), 5xx on its own failures.
 * - Webhooks v3, https://developer.pagerduty.com/docs/webhooks-v3-overview and "Verifying
 *   Signatures": `{event: {id, event_type, resource_type, occurred_at, agent, client, data}}`,
 *   `X-PagerDuty-Signature: v1=<hex HMAC-SHA256 of the raw body>` (comma-separated when several).
 */
import { createHmac, randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** One event PagerDuty accepted. */
export interface PdEvent {
  routing_key: string;
  event_action: "trigger" | "acknowledge" | "resolve";
  dedup_key: string;
  payload?: { summary: string; source: string; severity: string; [k: string]: unknown };
  links?: unknown[];
}

/** How the fake answers: normally, as an outage (503), or throttling (429 with Retry-After). */
export type PdMode = "ok" | "down" | "throttle";

const SEVERITIES = ["critical", "error", "warning", "info"];

/** Starts the fake on a free loopback port. */
export async function startFakePagerDuty() {
  const events: PdEvent[] = [];
  let mode: PdMode = "ok";
  let refused = 0;
  const server: Server = createServer((req, res) => {
    let raw = "";
    req.on("data", (c: Buffer) => {
      raw += c.toString("utf8");
    });
    req.on("end", () => {
      const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { "content-type": "application/json", ...headers });
        res.end(JSON.stringify(body));
      };
      if (req.method !== "POST" || req.url !== "/v2/enqueue") return send(404, { status: "not found" });
      if (mode === "down") {
        refused++;
        return send(503, { status: "unavailable", message: "Service Unavailable" });
      }
      if (mode === "throttle") {
        refused++;
        return send(
          429,
          { status: "throttle event", message: "Requests for this service are arriving too quickly" },
          { "retry-after": "30" },
        );
      }
      let e: PdEvent;
      try {
        e = JSON.parse(raw);
      } catch {
        return send(400, {
          status: "invalid event",
          message: "Event object is invalid",
          errors: ["Invalid JSON"],
        });
      }
      const errors: string[] = [];
      if (typeof e.routing_key !== "string" || e.routing_key.length === 0)
        errors.push("'routing_key' is missing or blank");
      if (!["trigger", "acknowledge", "resolve"].includes(e.event_action))
        errors.push("'event_action' is invalid");
      if (e.event_action !== "trigger" && !e.dedup_key) errors.push("'dedup_key' is missing or blank");
      if (e.event_action === "trigger") {
        if (!e.payload?.summary) errors.push("'payload.summary' is missing or blank");
        if (!e.payload?.source) errors.push("'payload.source' is missing or blank");
        if (!SEVERITIES.includes(String(e.payload?.severity))) errors.push("'payload.severity' is invalid");
      }
      if (errors.length)
        return send(400, { status: "invalid event", message: "Event object is invalid", errors });
      const dedup = e.dedup_key || randomUUID().replace(/-/g, "");
      events.push({ ...e, dedup_key: dedup });
      return send(202, { status: "success", message: "Event processed", dedup_key: dedup });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    events,
    /** Requests refused by an outage or throttling. */
    refused: () => refused,
    setMode(m: PdMode) {
      mode = m;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A v3 webhook delivery of `eventType` on the incident triggered with `dedupKey`, by user `agentId`. */
export function pdWebhook(
  eventType: "incident.acknowledged" | "incident.resolved" | "incident.triggered",
  dedupKey: string,
  agentId: string,
  secret: string,
  occurredAt = new Date(),
): { body: string; headers: Record<string, string> } {
  const body = JSON.stringify({
    event: {
      id: randomUUID(),
      event_type: eventType,
      resource_type: "incident",
      occurred_at: occurredAt.toISOString(),
      agent: {
        html_url: `https://acme.pagerduty.com/users/${agentId}`,
        id: agentId,
        self: `https://api.pagerduty.com/users/${agentId}`,
        summary: "Dana Scientist",
        type: "user_reference",
      },
      client: null,
      data: {
        id: "Q1B2C3D4E5F6G7",
        type: "incident",
        self: "https://api.pagerduty.com/incidents/Q1B2C3D4E5F6G7",
        html_url: "https://acme.pagerduty.com/incidents/Q1B2C3D4E5F6G7",
        number: 42,
        status: eventType.split(".")[1],
        incident_key: dedupKey,
        title: `${dedupKey} drift`,
        service: { id: "PSERVICE", type: "service_reference", summary: "mlops-bot" },
      },
    },
  });
  const sig = `v1=${createHmac("sha256", secret).update(body).digest("hex")}`;
  // Two signatures, as during a secret rotation: the old one first.
  return {
    body,
    headers: { "content-type": "application/json", "x-pagerduty-signature": `v1=${"0".repeat(64)},${sig}` },
  };
}
