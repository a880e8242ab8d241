/** Reads the times people type for an override: ISO 8601, or `YYYY-MM-DD HH:MM` on their own clock. */
import { dayOf, instantOf } from "./zoned-time.js";

const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:?\d{2})$/;
const ISO_LOCAL = /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2})$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const TIME = /^(\d{2}):(\d{2})$/;

/** A valid calendar day `YYYY-MM-DD` (no 31 February)? */
function realDay(day: string): boolean {
  const d = new Date(`${day}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === day;
}

function local(day: string, hh: string, mm: string, tz: string): Date | null {
  const h = Number(hh);
  const m = Number(mm);
  if (!realDay(day) || h > 23 || m > 59) return null;
  return new Date(instantOf(tz, dayOf(day), h * 60 + m));
}

/**
 * Reads two instants from `words` (`now`, an ISO time with `Z` or an offset, `YYYY-MM-DDTHH:MM` or
 * `YYYY-MM-DD HH:MM` in `tz`). Returns them, or a message saying what was not understood.
 */
export function parseSpan(
  words: readonly string[],
  tz: string,
  now: Date,
): { from: Date; to: Date } | string {
  const out: Date[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as string;
    let at: Date | null = null;
    if (w.toLowerCase() === "now") at = now;
    else if (ISO_WITH_ZONE.test(w)) {
      at = new Date(w);
      if (Number.isNaN(at.getTime()) || !realDay(w.slice(0, 10))) at = null;
    } else if (ISO_LOCAL.test(w)) {
      const [, day, hh, mm] = ISO_LOCAL.exec(w) as RegExpExecArray;
      at = local(day as string, hh as string, mm as string, tz);
    } else if (DATE.test(w) && TIME.test(words[i + 1] ?? "")) {
      const [, hh, mm] = TIME.exec(words[i + 1] as string) as RegExpExecArray;
      at = local(w, hh as string, mm as string, tz);
      i++;
    }
    if (!at)
      return `\`${w.slice(0, 40)}\` is not a time: use \`YYYY-MM-DD HH:MM\` (your time zone, ${tz}), ISO 8601 with an offset, or \`now\`.`;
    out.push(at);
  }
  if (out.length !== 2) return `Give two times, from and to (got ${out.length}).`;
  const [from, to] = out as [Date, Date];
  if (from.getTime() >= to.getTime()) return "The override must end after it starts.";
  return { from, to };
}
