import { randomBytes } from "node:crypto";

/** Issues Slack-looking ids (`C…`, `D…`, `V…`, `F…`) that are unique within one workspace. */
export interface IdFactory {
  /** A fresh id with the given one-letter prefix that `taken` does not already claim. */
  next(prefix: string, taken?: (id: string) => boolean): string;
}

/** Builds an id factory with its own counter, so ids are deterministic per workspace. */
export function createIdFactory(): IdFactory {
  let counter = 0;
  return {
    next(prefix, taken = () => false) {
      for (;;) {
        counter += 1;
        const id = `${prefix}0SBX${counter.toString(36).toUpperCase().padStart(5, "0")}`;
        if (!taken(id)) return id;
      }
    },
  };
}

/** An unguessable token for trigger ids, response_url ids and view hashes. */
export function randomToken(bytes = 12): string {
  return randomBytes(bytes).toString("hex");
}
