import type { App, Receiver, ReceiverEvent } from "@slack/bolt";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Logger } from "../shared/logger.js";
import type { Metrics } from "../shared/metrics.js";
import { envelopeProblem, storableStrings } from "./envelope.js";
import { ReplayGuard } from "./replay-guard.js";
import { verifySlackSignature } from "./signature.js";

/** Slack expects an acknowledgement within 3 s; past that the user sees an error anyway. */
const ACK_TIMEOUT_MS = 3000;
/** Slack payloads are small; anything bigger is not from Slack. */
const BODY_LIMIT_BYTES = 1024 * 1024;

/** Options of the fastify-hosted Bolt receiver. */
export interface FastifyReceiverOptions {
  signingSecret: string;
  logger: Logger;
  metrics: Metrics;
  /** Current time in ms (injected so tests can check the signature window). */
  now?: () => number;
  path?: string;
}

class BadRequest extends Error {}

function parseBody(raw: Buffer, contentType: string | undefined): Record<string, unknown> {
  const type = (contentType ?? "").split(";")[0]?.trim().toLowerCase();
  const text = raw.toString("utf8");
  if (type === "application/x-www-form-urlencoded") {
    const form = Object.fromEntries(new URLSearchParams(text));
    if (typeof form.payload === "string") {
      let payload: unknown;
      try {
        payload = JSON.parse(form.payload);
      } catch {
        throw new BadRequest("payload is not valid JSON");
      }
      if (!payload || typeof payload !== "object" || Array.isArray(payload)) {
        throw new BadRequest("payload is not a JSON object");
      }
      return payload as Record<string, unknown>;
    }
    if (typeof form.command !== "string" && form.ssl_check === undefined) {
      throw new BadRequest("form body is neither a slash command nor an interaction payload");
    }
    return form;
  }
  if (type === "application/json") {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new BadRequest("body is not valid JSON");
    }
    if (!body || typeof body !== "object" || Array.isArray(body))
      throw new BadRequest("body is not a JSON object");
    return body as Record<string, unknown>;
  }
  throw new BadRequest(`unsupported content type ${JSON.stringify(type ?? "")}`);
}

/** The kind of Slack request, for metrics and logs. */
function requestKind(body: Record<string, unknown>): string {
  if (typeof body.command === "string") return "command";
  if (typeof body.type === "string") return body.type === "event_callback" ? "event" : body.type;
  return "unknown";
}

/**
 * A Bolt receiver served by the bot's own fastify server at `POST /slack/events`.
 *
 * It lives in an encapsulated fastify plugin so that its raw-body content-type parsers (needed to
 * verify the signature over the exact bytes Slack signed) do not change body parsing anywhere else.
 * The signature is checked before the body is parsed, so forged requests cost no parsing and
 * reach no listener.
 */
export class FastifySlackReceiver implements Receiver {
  private bolt: App | undefined;
  private readonly now: () => number;
  private readonly replays = new ReplayGuard();

  constructor(private readonly opts: FastifyReceiverOptions) {
    this.now = opts.now ?? Date.now;
  }

  init(app: App): void {
    this.bolt = app;
  }

  /** The HTTP server is started and stopped by the bot itself, not by Bolt. */
  async start(): Promise<void> {}
  async stop(): Promise<void> {}

  /** A fastify plugin registering the Slack route in its own encapsulated scope. */
  readonly plugin = async (scope: FastifyInstance): Promise<void> => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", { parseAs: "buffer", bodyLimit: BODY_LIMIT_BYTES }, (_req, body, done) =>
      done(null, body),
    );
    scope.post(this.opts.path ?? "/slack/events", (req, reply) => this.handle(req, reply));
  };

  private async handle(req: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    const started = performance.now();
    const { metrics, logger } = this.opts;
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const contentType = req.headers["content-type"];

    if (
      contentType?.startsWith("application/x-www-form-urlencoded") &&
      /^ssl_check=1(&|$)/.test(raw.toString())
    ) {
      metrics.slackRequests.inc({ kind: "ssl_check", outcome: "ok" });
      return reply.code(200).send();
    }

    const failure = verifySlackSignature({
      signingSecret: this.opts.signingSecret,
      timestamp: header(req, "x-slack-request-timestamp"),
      signature: header(req, "x-slack-signature"),
      rawBody: raw,
      nowSeconds: Math.floor(this.now() / 1000),
    });
    if (failure) {
      metrics.slackRequests.inc({ kind: "unknown", outcome: failure });
      logger.warn({ reason: failure, ip: req.ip }, "refused a Slack request with an invalid signature");
      return reply.code(401).send({ error: "invalid_signature" });
    }
    // A signed request is acted on once: the same signature again inside the window is a replay
    // (or a duplicate delivery), acknowledged so Slack does not retry, and dropped.
    const signature = header(req, "x-slack-signature") as string;
    const stamped = Number(header(req, "x-slack-request-timestamp"));
    if (!this.replays.firstUse(signature, stamped, Math.floor(this.now() / 1000))) {
      metrics.slackRequests.inc({ kind: "unknown", outcome: "replayed" });
      logger.warn(
        { ip: req.ip },
        "dropped a replayed Slack request (same signature seen inside the 5-minute window)",
      );
      return reply.code(200).send();
    }

    let body: Record<string, unknown>;
    try {
      body = storableStrings(parseBody(raw, contentType));
    } catch (err) {
      metrics.slackRequests.inc({ kind: "unknown", outcome: "bad_request" });
      return reply.code(400).send({ error: "bad_request", message: (err as Error).message });
    }
    const problem = envelopeProblem(body);
    if (problem) {
      metrics.slackRequests.inc({ kind: "unknown", outcome: "bad_request" });
      logger.warn({ problem }, "refused a signed Slack payload of an unexpected shape");
      return reply.code(400).send({ error: "bad_request", message: problem });
    }
    const kind = requestKind(body);

    if (body.type === "url_verification") {
      metrics.slackRequests.inc({ kind, outcome: "ok" });
      return reply.code(200).send({ challenge: body.challenge });
    }
    if (!this.bolt) {
      metrics.slackRequests.inc({ kind, outcome: "not_ready" });
      return reply.code(503).send({ error: "not_ready" });
    }

    let acked = false;
    let resolveAck!: (response: unknown) => void;
    const ackPromise = new Promise<{ acked: true; response: unknown }>((resolve) => {
      resolveAck = (response) => resolve({ acked: true, response });
    });
    const retryNum = header(req, "x-slack-retry-num");
    const event: ReceiverEvent = {
      body,
      retryNum: retryNum !== undefined ? Number(retryNum) : undefined,
      retryReason: header(req, "x-slack-retry-reason"),
      ack: async (response?: unknown) => {
        if (acked) return;
        acked = true;
        metrics.slackAckDuration.observe({ kind }, (performance.now() - started) / 1000);
        resolveAck(response);
      },
    };

    const processing = this.bolt.processEvent(event).then(
      () => ({ acked: false as const, error: undefined }),
      (error: unknown) => ({ acked: false as const, error }),
    );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<{ acked: false; timedOut: true }>((resolve) => {
      timer = setTimeout(() => resolve({ acked: false, timedOut: true }), ACK_TIMEOUT_MS);
    });
    const first = await Promise.race([ackPromise, processing, timeout]);
    clearTimeout(timer);

    if (first.acked) {
      metrics.slackRequests.inc({ kind, outcome: "ok" });
      const response = first.response;
      if (response === undefined || response === "") return reply.code(200).send();
      if (typeof response === "string")
        return reply.code(200).type("text/plain; charset=utf-8").send(response);
      return reply.code(200).send(response);
    }
    if ("error" in first && first.error) {
      metrics.slackRequests.inc({ kind, outcome: "error" });
      logger.error({ err: first.error, kind }, "Slack request failed before it was acknowledged");
      return reply.code(500).send({ error: "internal_error" });
    }
    metrics.slackRequests.inc({ kind, outcome: "unhandled" });
    logger.warn({ kind }, "Slack request was not acknowledged by any listener");
    return reply.code(404).send({ error: "unhandled" });
  }
}

function header(req: FastifyRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
