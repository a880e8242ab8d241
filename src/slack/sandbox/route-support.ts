import { setTimeout as delay } from "node:timers/promises";
import type { FastifyReply } from "fastify";
import type { SandboxWorkspace } from "./workspace.js";

/** Sends an answer and writes it to the request log; `fault` names the scripted fault that decided it. */
export type Finish = (status: number, response: unknown, fault?: string) => FastifyReply;

/** Builds the `finish` function for one request: log, then reply (JSON, or text for string bodies). */
export function createFinish(
  workspace: SandboxWorkspace,
  reply: FastifyReply,
  method: string,
  args: Record<string, unknown>,
): Finish {
  const at = workspace.clock();
  return (status, response, fault) => {
    workspace.recordRequest({ method, args, status, response, at, ...(fault ? { fault } : {}) });
    reply.code(status);
    if (typeof response === "string") reply.type("text/plain; charset=utf-8");
    return reply.send(response);
  };
}

/**
 * Applies the first matching scripted fault. Returns true when the fault answered the request
 * (rate_limited, http_error, ok_false); false when there was none or it only delayed it (slow).
 * (A boolean, not the reply: a FastifyReply is thenable and would be unwrapped by `await`.)
 */
export async function applyFault(
  workspace: SandboxWorkspace,
  method: string,
  reply: FastifyReply,
  finish: Finish,
): Promise<boolean> {
  const fault = workspace.faults.take(method);
  if (!fault) return false;
  switch (fault.kind) {
    case "slow":
      await delay(fault.delayMs);
      return false;
    case "rate_limited":
      reply.header("retry-after", String(fault.retryAfterSec));
      finish(429, { ok: false, error: "ratelimited" }, "rate_limited");
      return true;
    case "http_error":
      finish(fault.status, `sandbox fault: HTTP ${fault.status}`, "http_error");
      return true;
    case "ok_false":
      finish(200, { ok: false, error: fault.error }, "ok_false");
      return true;
  }
}

/** The token from `Authorization: Bearer …`, else from a `token` argument. */
export function requestToken(
  authorization: string | undefined,
  args: Record<string, unknown>,
): string | undefined {
  const bearer = authorization ? /^Bearer\s+(\S+)$/i.exec(authorization)?.[1] : undefined;
  if (bearer) return bearer;
  return typeof args.token === "string" && args.token !== "" ? args.token : undefined;
}

/** The public base url (ending in `/`) of the sandbox routes this request reached. */
export function publicBaseUrl(protocol: string, host: string, prefix: string): string {
  return `${protocol}://${host}${prefix.replace(/\/$/, "")}/`;
}
