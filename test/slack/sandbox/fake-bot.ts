import Fastify, { type FastifyInstance } from "fastify";
import { signSlackRequest } from "../../../src/slack/signature.js";

/** One request the fake bot received, with its signature verdict. */
export interface ReceivedRequest {
  headers: Record<string, string | string[] | undefined>;
  rawBody: string;
  /** The form fields, or the decoded `payload` JSON for interactions. */
  body: Record<string, unknown>;
  signatureValid: boolean;
}

/** What the fake bot answers with; defaults to an empty 200 ack. */
export type BotReply = (request: ReceivedRequest) => { status?: number; body?: unknown };

/** A tiny stand-in for the bot: verifies Slack signatures and records what arrived. */
export interface FakeBot {
  url: string;
  received: ReceivedRequest[];
  reply: BotReply;
  close(): Promise<void>;
}

/** Starts the fake bot on a free port with `POST /slack/events`. */
export async function startFakeBot(signingSecret: string): Promise<FakeBot> {
  const app: FastifyInstance = Fastify({ logger: false });
  const bot: FakeBot = { url: "", received: [], reply: () => ({}), close: () => app.close() };
  app.addContentTypeParser(
    "application/x-www-form-urlencoded",
    { parseAs: "string" },
    (_request, body, done) => {
      done(null, body);
    },
  );
  app.post("/slack/events", async (request, reply) => {
    const rawBody = String(request.body);
    const timestamp = String(request.headers["x-slack-request-timestamp"]);
    const signatureValid =
      request.headers["x-slack-signature"] === signSlackRequest(signingSecret, timestamp, rawBody);
    const fields = Object.fromEntries(new URLSearchParams(rawBody));
    const body =
      typeof fields.payload === "string" ? (JSON.parse(fields.payload) as Record<string, unknown>) : fields;
    const received: ReceivedRequest = { headers: request.headers, rawBody, body, signatureValid };
    bot.received.push(received);
    if (!signatureValid) return reply.code(401).send({ error: "bad signature" });
    const answer = bot.reply(received);
    reply.code(answer.status ?? 200);
    return answer.body === undefined ? reply.send("") : reply.send(answer.body);
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  bot.url = `http://127.0.0.1:${port}/slack/events`;
  return bot;
}
