import type { FastifyInstance } from "fastify";
import { applyResponse } from "./response-apply.js";
import { applyFault, createFinish } from "./route-support.js";
import type { SandboxWorkspace } from "./workspace.js";

/** Options of the response_url plugin. */
export interface SandboxResponseUrlOptions {
  workspace: SandboxWorkspace;
}

/**
 * `POST /response/:id`: the response_urls the driver hands to the bot. JSON bodies; 5 uses within 30 minutes;
 * ephemeral responses become ephemerals for the invoking user, in_channel ones real messages.
 */
export async function sandboxResponseUrls(
  app: FastifyInstance,
  opts: SandboxResponseUrlOptions,
): Promise<void> {
  const { workspace } = opts;
  app.post<{ Params: { id: string } }>("/response/:id", async (request, reply) => {
    const { id } = request.params;
    const body = request.body;
    const finish = createFinish(workspace, reply, "response_url", {
      response_url_id: id,
      ...(typeof body === "object" && body !== null ? (body as Record<string, unknown>) : {}),
    });
    if (await applyFault(workspace, "response_url", reply, finish)) return reply;
    const use = workspace.responseUrls.use(id, body);
    if (!use.ok) return finish(404, { ok: false, error: use.error });
    const outcome = applyResponse(workspace, use.target, body, "response_url");
    if (!outcome.ok) {
      return finish(outcome.error === "message_not_found" ? 404 : 400, {
        ok: false,
        error: outcome.error,
        ...(outcome.detail ? { errors: [outcome.detail] } : {}),
      });
    }
    return finish(200, { ok: true });
  });
}
