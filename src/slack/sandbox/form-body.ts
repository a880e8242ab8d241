import type { ApiArgs } from "./api-types.js";

/** Arguments that clients send as JSON strings inside form bodies. */
export const JSON_ENCODED_FIELDS: ReadonlySet<string> = new Set([
  "blocks",
  "attachments",
  "view",
  "files",
  "metadata",
]);

function decodeField(key: string, value: unknown): unknown {
  if (!JSON_ENCODED_FIELDS.has(key) || typeof value !== "string") return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/** Decodes an `application/x-www-form-urlencoded` body, JSON-parsing blocks, attachments, view, files and metadata. */
export function decodeFormArgs(raw: string): ApiArgs {
  const args: ApiArgs = {};
  for (const [key, value] of new URLSearchParams(raw)) args[key] = decodeField(key, value);
  return args;
}

/** Normalises a JSON body: the same fields may still arrive JSON-encoded as strings. */
export function decodeJsonArgs(body: Record<string, unknown>): ApiArgs {
  const args: ApiArgs = {};
  for (const [key, value] of Object.entries(body)) args[key] = decodeField(key, value);
  return args;
}
