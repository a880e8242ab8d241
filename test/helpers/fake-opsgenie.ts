/**
 * A local Opsgenie for tests, built from its public documentation:
 * - Alert API, https://docs.opsgenie.com/docs/alert-api : `Authorization: GenieKey <key>`;
 *   `POST /v2/alerts` (message ≤ 130 chars, alias, description, responders, priority P1…P5) and
 *   `POST /v2/alerts/{alias}/acknowledge|close?identifierType=alias` answer 202
 *   `{result: "Request will be processed", took, requestId}` (asynchronous); a bad key 401 and a bad
 *   body 422 `{message, took, requestId}`; 429 when throttled (Retry-After here), 5xx on outages.
 * - Outgoing webhook integration (alert action data),
 *   https://docs.opsgenie.com/docs/marid-alert-action-data and
 *   https://docs.opsgenie.com/v1.0/docs/webhook-integration : `{action: "Acknowledge" | "Close" | …,
 *   alert: {alertId, alias, message, username, userId, …}, source: {name, type}, integrationId,
 *   integrationName}`, with the custom headers the integration is set up with.
 */
import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** One request Opsgenie accepted. */
export interface OgRequest {
  op: "create" | "acknowledge" | "close";
  alias: string;
  body: Record<string, unknown>;
}

/** How the fake answers. */
export type OgMode = "ok" | "down" | "throttle";

const PRIORITIES = ["P1", "P2", "P3", "P4", "P5"];
const ACTION = /^\/v2\/alerts\/([^/?]+)\/(acknowledge|close)\?identifierType=alias$/;

/** Starts the fake on a free loopback port; it accepts only `apiKey`. */
export async function startFakeOpsgenie(apiKey: string) {
  const requests: OgRequest[] = [];
  let mode: OgMode = "ok";
  const server: Server = createServer((req, res) => {
    let raw = "";
    req.on("data", (c: Buffer) => {
      raw += c.toString("utf8");
    });
    req.on("end", () => {
      const requestId = randomUUID();
      const send = (status: number, body: Record<string, unknown>, headers: Record<string, string> = {}) => {
        res.writeHead(status, { "content-type": "application/json", ...headers });
        res.end(JSON.stringify({ ...body, took: 0.01, requestId }));
      };
      if (req.headers.authorization !== `GenieKey ${apiKey}`)
        return send(401, { message: "Key format is not valid!" });
      if (mode === "down") return send(503, { message: "Service Unavailable" });
      if (mode === "throttle") return send(429, { message: "Too many requests" }, { "retry-after": "30" });
      let body: Record<string, unknown>;
      try {
        body = raw ? JSON.parse(raw) : {};
      } catch {
        return send(422, { message: "Request body is not processable" });
      }
      if (req.method === "POST" && req.url === "/v2/alerts") {
        const message = body.message;
        if (typeof message !== "string" || !message || message.length > 130)
          return send(422, {
            message: "Message can not be empty or longer than 130 characters.",
            errors: { message: "invalid" },
          });
        if (body.priority !== undefined && !PRIORITIES.includes(String(body.priority)))
          return send(422, { message: "Priority should be one of [P1, P2, P3, P4, P5]" });
        requests.push({ op: "create", alias: String(body.alias ?? message), body });
        return send(202, { result: "Request will be processed" });
      }
      const m = req.method === "POST" ? ACTION.exec(req.url ?? "") : null;
      if (m?.[1] && m[2]) {
        requests.push({ op: m[2] as "acknowledge" | "close", alias: decodeURIComponent(m[1]), body });
        return send(202, { result: "Request will be processed" });
      }
      return send(404, { message: "Could not find the requested resource" });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    setMode(m: OgMode) {
      mode = m;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** An outgoing-webhook delivery: `username` did `action` on the alert with `alias`. */
export function ogWebhook(
  action: "Acknowledge" | "Close" | "Create",
  alias: string,
  username: string,
): string {
  return JSON.stringify({
    source: { name: "", type: "web" },
    alert: {
      updatedAt: 1420452224764002,
      tags: ["fraud-detector"],
      message: `${alias} drift`,
      username,
      alertId: randomUUID(),
      source: username,
      alias,
      tinyId: "23",
      createdAt: 1420452191104,
      userId: randomUUID(),
      entity: "fraud-detector",
    },
    action,
    integrationId: randomUUID(),
    integrationName: "mlops-bot answers",
  });
}
