import type { FastifyInstance } from "fastify";
import { createApiMethods } from "./api-methods.js";
import { fail } from "./api-types.js";
import { decodeFormArgs, decodeJsonArgs } from "./form-body.js";
import { parseMultipart } from "./multipart.js";
import { applyFault, createFinish, publicBaseUrl, requestToken } from "./route-support.js";
import type { SandboxWorkspace } from "./workspace.js";

/** Options of the Web API plugin. */
export interface SandboxWebApiOptions {
  workspace: SandboxWorkspace;
  /** The only bot token accepted. */
  token: string;
  /** Public base url (ending in `/`) for upload_urls; derived from each request when absent. */
  publicUrl?: string;
}

/** Largest body the upload route accepts. */
export const MAX_UPLOAD_BYTES = 50 * 1024 * 1024;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value);
}

/** The upload route lives in its own scope: it takes any content type as raw bytes. */
async function uploadRoute(app: FastifyInstance, opts: SandboxWebApiOptions): Promise<void> {
  const { workspace } = opts;
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    "*",
    { parseAs: "buffer", bodyLimit: MAX_UPLOAD_BYTES },
    (_request, body, done) => {
      done(null, body);
    },
  );
  app.post<{ Params: { fileId: string } }>(
    "/upload/:fileId",
    { bodyLimit: MAX_UPLOAD_BYTES },
    async (request, reply) => {
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const contentType = request.headers["content-type"] ?? "";
      const { fileId } = request.params;
      let bytes = body;
      let multipart = false;
      if (contentType.toLowerCase().startsWith("multipart/form-data")) {
        multipart = true;
        try {
          const parts = parseMultipart(body, contentType);
          const part = parts.find((candidate) => candidate.filename !== undefined) ?? parts[0];
          bytes = part ? part.data : Buffer.alloc(0);
        } catch {
          const finish = createFinish(workspace, reply, "upload", { file_id: fileId });
          return finish(400, "malformed multipart body");
        }
      }
      const finish = createFinish(workspace, reply, "upload", {
        file_id: fileId,
        bytes: bytes.length,
        multipart,
      });
      const faulted = await applyFault(workspace, "upload", reply, finish);
      if (faulted) return reply;
      const file = workspace.receiveFileBytes(fileId, Buffer.from(bytes));
      if (!file) return finish(404, "file not found");
      return finish(200, `OK - ${bytes.length}`);
    },
  );
}

/**
 * The sandbox Web API as a fastify plugin: `POST /api/:method` (form or JSON bodies, Bearer token) and
 * `POST /upload/:fileId` for upload_urls. Encapsulated: its form parser does not leak to the caller.
 */
export async function sandboxWebApi(app: FastifyInstance, opts: SandboxWebApiOptions): Promise<void> {
  const { workspace, token } = opts;
  const methods = createApiMethods();
  app.addContentTypeParser(
    "application/x-www-form-urlencoded",
    { parseAs: "string" },
    (_request, body, done) => {
      done(null, decodeFormArgs(String(body)));
    },
  );

  app.post<{ Params: { method: string } }>("/api/:method", async (request, reply) => {
    const { method } = request.params;
    const query = isRecord(request.query) ? request.query : {};
    const body = isRecord(request.body) ? decodeJsonArgs(request.body) : {};
    const args = { ...decodeJsonArgs(query), ...body };
    const { token: _token, ...loggedArgs } = args;
    const finish = createFinish(workspace, reply, method, loggedArgs);

    if (await applyFault(workspace, method, reply, finish)) return reply;

    const given = requestToken(request.headers.authorization, args);
    if (!given) return finish(200, fail("not_authed"));
    const accepted = workspace.tokens.check(given, token);
    if (accepted !== "ok") return finish(200, fail(accepted));

    const handler = methods.get(method);
    if (!handler) return finish(200, fail("unknown_method"));
    const baseUrl = opts.publicUrl ?? publicBaseUrl(request.protocol, request.host, app.prefix);
    try {
      return finish(200, handler({ workspace, args, baseUrl }));
    } catch (error) {
      return finish(
        500,
        fail("internal_error", { detail: error instanceof Error ? error.message : String(error) }),
      );
    }
  });

  // A fresh options object: the caller's (which may carry `prefix`) must not be applied twice.
  await app.register(uploadRoute, {
    workspace,
    token,
    ...(opts.publicUrl ? { publicUrl: opts.publicUrl } : {}),
  });
}
