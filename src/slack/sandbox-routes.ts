import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { SandboxDriver, SandboxWorkspace } from "./sandbox/index.js";

const commandBody = z.strictObject({
  user: z.string().min(1).max(80).describe("a sandbox user's id or name"),
  channel: z.string().min(1).max(80).describe("a channel id or name"),
  text: z.string().max(4000),
});

/**
 * Routes that let a local person (the terminal console, a browser page, a test in another process)
 * act as a seeded sandbox user: the driver turns each into a correctly signed Slack request to the
 * bot. Mounted only in sandbox mode, where every user and secret is made up.
 */
export function sandboxActRoutes(deps: { workspace: SandboxWorkspace; driver: () => SandboxDriver }) {
  return async (scope: FastifyInstance): Promise<void> => {
    scope.post("/act/command", async (req, reply) => {
      const parsed = commandBody.safeParse(req.body);
      if (!parsed.success) {
        return reply.code(400).send({ error: "bad_request", issues: parsed.error.issues });
      }
      const { user, channel, text } = parsed.data;
      const who = deps.workspace.user(user) ?? deps.workspace.userByName(user);
      if (!who) return reply.code(404).send({ error: "user_not_found" });
      const where = deps.workspace.resolveChannel(channel);
      if (!where) return reply.code(404).send({ error: "channel_not_found" });
      const result = await deps.driver().command(who.id, where.id, text.replace(/^\/mlops\s*/, ""));
      return reply.code(200).send({ status: result.status, body: result.body });
    });
  };
}
