import { formatDuration, parseDuration } from "../shared/duration.js";
import { parseRef, type Silence } from "./model.js";

/** What a silence mutes: every matcher that is set must match (unset matchers match anything). */
export interface SilenceMatcher {
  model: string | null;
  monitor: string | null;
  fingerprint: string | null;
}

/**
 * True when the silence covers an alert with these properties. A silence set from an incident
 * carries the incident's fingerprint, which for a group is its group key (`groupKey`): it mutes
 * every member of that group, while one set on a finding's own fingerprint mutes that one only.
 */
export function silenceMatches(
  silence: SilenceMatcher,
  alert: { model: string; monitor: string; fingerprint: string; groupKey?: string | undefined },
): boolean {
  return (
    (silence.model === null || silence.model === alert.model) &&
    (silence.monitor === null || silence.monitor === alert.monitor) &&
    (silence.fingerprint === null ||
      silence.fingerprint === alert.fingerprint ||
      silence.fingerprint === alert.groupKey)
  );
}

/** True while a silence mutes: started, not ended by hand, not past its end. */
export function silenceActive(silence: Pick<Silence, "startsAt" | "endsAt" | "endedAt">, now: Date): boolean {
  return silence.endedAt === null && silence.startsAt <= now && silence.endsAt > now;
}

/** What `/mlops silence` was pointed at: one incident's problem, a model, or one monitor of a model. */
export type SilenceTarget =
  | { kind: "incident"; incidentId: number }
  | { kind: "model"; model: string; monitor: string | null };

/** Parses `INC-7`, `fraud-detector` or `fraud-detector/drift`; undefined when it is none of them. */
export function parseSilenceTarget(text: string): SilenceTarget | undefined {
  const trimmed = text.trim();
  if (/^inc-?\d+$/i.test(trimmed)) {
    const id = parseRef(trimmed);
    return id ? { kind: "incident", incidentId: id } : undefined;
  }
  const match = /^([a-z0-9][a-z0-9-]{0,62})(?:\/([A-Za-z0-9_.:-]{1,100}))?$/.exec(trimmed);
  if (!match) return undefined;
  return { kind: "model", model: match[1] as string, monitor: match[2] ?? null };
}

/** A silence duration between one minute and `maxMs`, or a message saying what is wrong. */
export function parseSilenceDuration(text: string, maxMs: number): { ms: number } | { error: string } {
  let ms: number;
  try {
    ms = parseDuration(text);
  } catch {
    return { error: `\`${text.slice(0, 20)}\` is not a duration; write e.g. 30m, 2h or 1d` };
  }
  if (ms < 60_000) return { error: "a silence lasts at least 1m" };
  if (ms > maxMs) return { error: `a silence lasts at most ${formatDuration(maxMs)} (alerting.max_silence)` };
  return { ms };
}

/** `SIL-3` for silence 3. */
export function formatSilenceRef(id: number): string {
  return `SIL-${id}`;
}

/** The silence id in `SIL-3` or `3`. */
export function parseSilenceRef(text: string): number | undefined {
  const match = /^(?:SIL-?)?(\d{1,9})$/i.exec(text.trim());
  return match ? Number(match[1]) : undefined;
}
