import { z } from "zod";

/** Is `name` an IANA time zone this runtime knows (`Europe/Berlin`, `UTC`)? */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** An IANA time zone the runtime knows, e.g. `Europe/Berlin`. */
export const timeZoneSchema = z
  .string()
  .refine(isTimeZone, "expected an IANA time zone like 'Europe/Berlin' or 'UTC'")
  .describe("IANA time zone");
