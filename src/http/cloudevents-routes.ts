/**
 * `POST /api/v1/ingest/cloudevents`: KServe's InferenceService logger (and Seldon Core's request
 * logger) post each request and response here as a CloudEvent. Callers present a bearer token
 * with the `ingest` scope, or come from an address in `ingest.cloudevents.allow_from` (a logger
 * that cannot send headers). A bad event gets 400 with the reason and writes nothing.
 * `GET /api/v1/ingest/cloudevents/unpaired` (scope `read`) reports halves waiting for their
 * partner and halves that never got one.
 */
import { BlockList, isIP } from "node:net";
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import type { ApiTokenService } from "../api-tokens/index.js";
import { InvalidBatchError } from "../ingest/index.js";
import { InvalidEventError, type PayloadLogService, parseLoggedEvent } from "../payload-log/index.js";
import { bearerAuth } from "./bearer-auth.js";
import { sendUnhandledError } from "./errors.js";

/** Largest event body (one logged request or response). */
export const CLOUDEVENT_BODY_LIMIT = 16 * 1024 * 1024;

/** What the routes call. */
export interface CloudEventRouteDeps {
  apiTokens: ApiTokenService;
  payloadLog: PayloadLogService;
  /** IPs and CIDR ranges admitted without a token (`ingest.cloudevents.allow_from`). */
  allowFrom: readonly string[];
}

/** A matcher of client addresses against IPs and CIDR ranges; IPv4-mapped IPv6 counts as IPv4. */
export function addressMatcher(entries: readonly string[]): (ip: string) => boolean {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = "", prefix] = entry.split("/");
    const family = isIP(address) === 6 ? "ipv6" : "ipv4";
    if (isIP(address) === 0) throw new Error(`not an IP address: ${entry}`);
    if (prefix === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(prefix), family);
  }
  return (ip) => {
    if (entries.length === 0) return false;
    const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1];
    const address = v4 ?? ip;
    const family = isIP(address);
    return family !== 0 && list.check(address, family === 6 ? "ipv6" : "ipv4");
  };
}

/** The CloudEvents ingest plugin. */
export function cloudEventRoutes(deps: CloudEventRouteDeps): FastifyPluginAsync {
  return async (app: FastifyInstance) => {
    const tokenAuth = bearerAuth(deps.apiTokens);
    const allowed = addressMatcher(deps.allowFrom);
    const ingestAuth = async (req: FastifyRequest, reply: FastifyReply) => {
      if (allowed(req.ip)) return;
      await tokenAuth(req, reply);
    };
    // The SDK reads the body by the event's own content type, so it is handed over unparsed.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser(
      "*",
      { parseAs: "string", bodyLimit: CLOUDEVENT_BODY_LIMIT },
      (_req, body, done) => done(null, body),
    );
    app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
      if (err instanceof InvalidEventError || err instanceof InvalidBatchError)
        return reply.code(400).send({ error: "invalid_event", message: err.message });
      if (err.code === "FST_ERR_CTP_BODY_TOO_LARGE")
        return reply.code(413).send({
          error: "body_too_large",
          message: `the event is larger than ${CLOUDEVENT_BODY_LIMIT} bytes`,
        });
      return sendUnhandledError(err, req, reply, "cloudevents ingest failed");
    });

    app.post(
      "/api/v1/ingest/cloudevents",
      { onRequest: ingestAuth, bodyLimit: CLOUDEVENT_BODY_LIMIT, config: { scope: "ingest" } },
      async (req, reply) => {
        const body = typeof req.body === "string" ? req.body : "";
        const receipt = await deps.payloadLog.receive(parseLoggedEvent(req.headers, body));
        return reply.code(receipt.status === "waiting" ? 202 : 200).send(receipt);
      },
    );

    app.get(
      "/api/v1/ingest/cloudevents/unpaired",
      { onRequest: tokenAuth, config: { scope: "read" } },
      async () => deps.payloadLog.report(),
    );
  };
}
