import type { SandboxWorkspace } from "./workspace.js";

/** Decoded arguments of a Web API call (form fields, JSON fields already parsed). */
export type ApiArgs = Record<string, unknown>;

/** A Web API answer body. */
export type ApiResult = { ok: boolean; error?: string; [key: string]: unknown };

/** What a method handler gets: the workspace, the arguments, and the sandbox's public base url (ends with `/`). */
export interface ApiContext {
  workspace: SandboxWorkspace;
  args: ApiArgs;
  baseUrl: string;
}

/** One Web API method. */
export type ApiHandler = (context: ApiContext) => ApiResult;

/** A string argument (numbers are stringified); undefined when absent or empty. */
export function argString(args: ApiArgs, key: string): string | undefined {
  const value = args[key];
  if (typeof value === "number") return String(value);
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** A boolean argument: true, "true" or "1". */
export function argBool(args: ApiArgs, key: string): boolean {
  const value = args[key];
  return value === true || value === "true" || value === "1" || value === 1;
}

/** Slack's failure body. */
export function fail(error: string, extra: Record<string, unknown> = {}): ApiResult {
  return { ok: false, error, ...extra };
}
