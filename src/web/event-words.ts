/**
 * A timeline event in words, as the thread would say it: the incident log shows these instead of
 * each event's raw JSON. Known kinds get a sentence; any other kind lists its details as
 * "name value" pairs with numbers formatted as on the card.
 */
import { formatNumber } from "../charts/render.js";
import { formatDuration } from "../shared/duration.js";

type Detail = Record<string, unknown>;

function value(v: unknown): string {
  if (v === null || v === undefined) return "—";
  if (typeof v === "number") return formatNumber(v);
  if (typeof v === "boolean") return v ? "yes" : "no";
  if (typeof v === "string") return v;
  if (Array.isArray(v)) return v.map(value).join(", ");
  return pairs(v as Detail);
}

/** "value 0.34 · method psi": every field of an object, one level of nesting spelled out. */
export function pairs(detail: Detail, skip: readonly string[] = []): string {
  return Object.entries(detail)
    .filter(([k, v]) => !skip.includes(k) && v !== undefined)
    .map(
      ([k, v]) =>
        `${k
          .replace(/_/g, " ")
          .replace(/([a-z])([A-Z])/g, "$1 $2")
          .toLowerCase()} ${value(v)}`,
    )
    .join(" · ");
}

function numbers(d: Detail): string {
  const m = d.metrics;
  return m && typeof m === "object" && Object.keys(m).length ? ` Numbers: ${pairs(m as Detail)}.` : "";
}

const str = (v: unknown) => (typeof v === "string" ? v : v === undefined || v === null ? "" : String(v));

/** The event's detail in words. */
export function eventWords(kind: string, d: Detail): string {
  switch (kind) {
    case "opened":
      return `Opened: ${str(d.title)}.${d.rule ? ` Rule: ${str(d.rule)}.` : ""}${numbers(d)}${d.silenced ? " (silenced)" : ""}`;
    case "alert_fired":
      return `Fired again${typeof d.count === "number" ? ` (firing ${d.count})` : ""}: ${str(d.title)}.${numbers(d)}`;
    case "alert_resolved":
      return `Recovered${d.subject ? ` (${str(d.subject)})` : ""}: ${str(d.title)}.${numbers(d)}`;
    case "member_joined":
      return `Joined the incident${d.subject ? ` (${str(d.subject)})` : ""}: ${str(d.title)}.${d.rule ? ` Rule: ${str(d.rule)}.` : ""}${numbers(d)}`;
    case "member_fired_again":
      return `Fired again after recovering${d.subject ? ` (${str(d.subject)})` : ""}: ${str(d.title)}.${numbers(d)}`;
    case "acknowledged":
    case "mitigated":
    case "resolved":
      return `${str(d.from) || "?"} → ${str(d.to) || kind}${d.note ? `: ${str(d.note)}` : ""}`;
    case "refused":
      return `Refused${d.action ? ` to ${str(d.action)}` : ""}: that takes ${value(d.allowed ?? "someone else")}. Nothing changed.`;
    case "unchanged":
      return `${str(d.action) || "The action"} changed nothing${d.state ? ` (already ${str(d.state)})` : ""}.`;
    case "posted":
      return `Posted the ${str(d.what) || "message"}${d.title ? `: ${str(d.title)}` : ""}.`;
    case "silenced":
      return `Silenced${typeof d.durationMs === "number" ? ` for ${formatDuration(d.durationMs)}` : ""}${d.reason ? `: ${str(d.reason)}` : ""}.`;
    case "owner_changed":
      return d.how === "assigned"
        ? `Handed it to ${str(d.to)}${d.from ? ` (the owner was ${str(d.from)})` : ""}.`
        : d.how === "acknowledged"
          ? `Became the owner by acknowledging it.`
          : `Took it${d.from ? ` over from ${str(d.from)}` : ""}: the owner now.`;
    case "status_update":
      return `Status update (${str(d.state)}): ${str(d.known)}${d.next ? ` Next step: ${str(d.next)}` : ""}`;
    case "update_reminded":
      return `Reminded ${str(d.owner) || "the owner"} that a status update is due${typeof d.every_ms === "number" ? ` (every ${formatDuration(d.every_ms)})` : ""}.`;
    default: {
      const text = pairs(d);
      return text ? `${text}.` : "";
    }
  }
}
