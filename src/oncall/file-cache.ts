import { mkdirSync, readFileSync } from "node:fs";
import { rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { CalendarCache } from "./ports.js";

/**
 * Last good copies as files `<dir>/<schedule>.ics`, written to a temporary name and renamed, so a
 * crash mid-write leaves the previous copy whole. Each replica keeps its own.
 */
export function fileCalendarCache(dir: string): CalendarCache {
  return {
    read(name) {
      try {
        return readFileSync(join(dir, `${name}.ics`), "utf8");
      } catch {
        return undefined;
      }
    },
    async write(name, text) {
      mkdirSync(dir, { recursive: true });
      const file = join(dir, `${name}.ics`);
      const tmp = `${file}.${process.pid}.tmp`;
      await writeFile(tmp, text);
      await rename(tmp, file);
    },
  };
}

/** Last good copies in memory only (tests, or no data directory). */
export function memoryCalendarCache(): CalendarCache & { copies: Map<string, string> } {
  const copies = new Map<string, string>();
  return {
    copies,
    read: (name) => copies.get(name),
    async write(name, text) {
      copies.set(name, text);
    },
  };
}
