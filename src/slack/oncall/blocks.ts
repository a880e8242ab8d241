import type { KnownBlock } from "@slack/types";
import type { NowAndNext, OverrideRow, RemoteStatus, Shift } from "../../oncall/index.js";
import { escapeMrkdwn } from "../../shared/text.js";
import type { CommandReply } from "../commands/types.js";

/** `Mon 30 Mar 09:00`: an instant on the viewer's clock. */
export function formatInZone(date: Date, tz: string): string {
  const parts = new Intl.DateTimeFormat("en-GB", {
    timeZone: tz,
    weekday: "short",
    day: "numeric",
    month: "short",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).formatToParts(date);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  return `${get("weekday")} ${get("day")} ${get("month")} ${get("hour")}:${get("minute")}`;
}

function person(s: Shift): string {
  const name = s.user ? `<@${s.user}>` : `${escapeMrkdwn(s.label)} (no Slack user mapped)`;
  return s.source.kind === "override" ? `${name} (override)` : name;
}

/** The reply to `/mlops oncall <schedule>`: who is on now and next, times in `tz` (the viewer's). */
export function scheduleOnCallReply(
  view: NowAndNext,
  tz: string,
  tzIsViewers: boolean,
  overrides: readonly OverrideRow[] = [],
  remote?: RemoteStatus,
): CommandReply {
  const when = (d: Date) => formatInZone(d, tz);
  const now = view.current
    ? `*Now:* ${person(view.current)} since ${when(view.current.start)}, until ${when(view.current.end)}`
    : "*Now:* nobody is on call";
  const next = view.next
    ? `*Next:* ${person(view.next)} from ${when(view.next.start)} until ${when(view.next.end)}`
    : "*Next:* nobody in the next 12 weeks";
  const zone = `Times in ${tz}${tzIsViewers ? " (your Slack time zone)" : " (the workspace's; Slack gave none for you)"}; the schedule runs in ${view.timezone}.`;
  const title = `On call: ${view.schedule}`;
  const blocks: KnownBlock[] = [
    { type: "section", text: { type: "mrkdwn", text: `*${escapeMrkdwn(title)}*\n${now}\n${next}` } },
  ];
  if (remote?.staleSince) {
    const copy = remote.fetchedAt
      ? `the copy fetched ${when(remote.fetchedAt)}`
      : "no copy yet, so nobody is on call in it";
    blocks.push({
      type: "section",
      text: {
        type: "mrkdwn",
        text: `:warning: *Stale since ${when(remote.staleSince)}*: the schedule's feed could not be fetched (${escapeMrkdwn((remote.error?.message ?? "failed").slice(0, 300))}); this is ${copy}.`,
      },
    });
  }
  if (overrides.length) {
    // At most 20 listed keeps the message far under Block Kit's 3000 characters a section.
    const lines = overrides
      .slice(0, 20)
      .map(
        (o) => `\`#${o.id}\` <@${o.who}> from ${when(o.from)} until ${when(o.to)} (set by <@${o.createdBy}>)`,
      );
    const more = overrides.length > 20 ? `\n…and ${overrides.length - 20} more` : "";
    blocks.push({
      type: "section",
      text: {
        type: "mrkdwn",
        text: `*Overrides* (undo with \`/mlops oncall undo <id>\`)\n${lines.join("\n")}${more}`,
      },
    });
  }
  blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: zone }] });
  const stale = remote?.staleSince ? ` Stale since ${when(remote.staleSince)}.` : "";
  return { text: `${title}. ${now.replaceAll("*", "")}. ${next.replaceAll("*", "")}.${stale}`, blocks };
}
