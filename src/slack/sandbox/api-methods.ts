import type { ApiHandler } from "./api-types.js";
import { chatMethods } from "./methods-chat.js";
import { directoryMethods } from "./methods-directory.js";
import { fileMethods } from "./methods-files.js";
import { historyMethods } from "./methods-history.js";
import { viewMethods } from "./methods-views.js";

/** Builds the table of Web API methods the sandbox implements, keyed by method name. */
export function createApiMethods(): Map<string, ApiHandler> {
  return new Map(
    Object.entries({
      ...chatMethods,
      ...directoryMethods,
      ...historyMethods,
      ...viewMethods,
      ...fileMethods,
    }),
  );
}
