import { escapeHtml, raw, type SafeHtml, safeUrl } from "../../../web/html.js";
import type { SandboxWorkspace } from "../workspace.js";

/** The emoji the bot's messages use (and a few common ones); any other `:name:` stays as typed. */
const EMOJI: Record<string, string> = {
  alarm_clock: "⏰",
  bell: "🔔",
  eyes: "👀",
  information_source: "ℹ️",
  large_green_circle: "🟢",
  large_orange_circle: "🟠",
  large_yellow_circle: "🟡",
  red_circle: "🔴",
  repeat: "🔁",
  rotating_light: "🚨",
  warning: "⚠️",
  white_check_mark: "✅",
  x: "❌",
  zzz: "💤",
  hourglass: "⌛",
  hourglass_flowing_sand: "⏳",
  arrow_up: "⬆️",
  pager: "📟",
  robot_face: "🤖",
  gear: "⚙️",
  chart_with_upwards_trend: "📈",
  chart_with_downwards_trend: "📉",
  heavy_check_mark: "✔️",
  no_entry: "⛔",
  lock: "🔒",
  wrench: "🔧",
  rocket: "🚀",
  tada: "🎉",
  white_circle: "⚪",
  black_circle: "⚫",
};

/** Slack escapes only these three in message text. */
function unescapeSlack(text: string): string {
  return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

/** `:name:` as its emoji when known. */
export function emojiOf(name: string): string | undefined {
  return EMOJI[name];
}

function reference(inner: string, workspace: SandboxWorkspace): string {
  const bar = inner.indexOf("|");
  const target = bar >= 0 ? inner.slice(0, bar) : inner;
  const label = bar >= 0 ? unescapeSlack(inner.slice(bar + 1)) : undefined;
  const mention = (text: string) => `<span class="mention">${escapeHtml(text)}</span>`;
  if (target.startsWith("@")) {
    const id = target.slice(1);
    return mention(`@${workspace.user(id)?.name ?? label?.replace(/^@/, "") ?? id}`);
  }
  if (target.startsWith("#")) {
    const id = target.slice(1);
    const channel = workspace.channel(id);
    return mention(channel ? workspace.channelLabel(channel.id) : `#${label ?? id}`);
  }
  if (target.startsWith("!subteam^")) {
    const id = target.slice("!subteam^".length);
    return mention(`@${workspace.userGroup(id)?.handle ?? label?.replace(/^@/, "") ?? id}`);
  }
  if (target.startsWith("!date^")) return escapeHtml(label ?? target);
  if (target.startsWith("!")) return mention(`@${label?.replace(/^@/, "") ?? target.slice(1)}`);
  const url = safeUrl(unescapeSlack(target));
  const text = escapeHtml(label ?? unescapeSlack(target));
  return url ? `<a href="${escapeHtml(url)}" target="_blank" rel="noopener noreferrer">${text}</a>` : text;
}

const HOLD_OPEN = "\uE000";
const HOLD_CLOSE = "\uE001";

/**
 * Renders Slack mrkdwn as HTML: mentions and channel references by name, links (http, https and
 * mailto only), *bold*, _italic_, ~strike~, `code`, ```blocks```, > quotes, known emoji and line
 * breaks. Everything else is escaped text; markup made here is kept aside while the rest is
 * escaped, so message text can never inject HTML.
 */
export function mrkdwnToHtml(text: string, workspace: SandboxWorkspace): SafeHtml {
  const held: string[] = [];
  const hold = (markup: string) => `${HOLD_OPEN}${held.push(markup) - 1}${HOLD_CLOSE}`;
  let s = text.replace(/[\uE000\uE001]/g, "");
  s = s.replace(/```([\s\S]*?)```/g, (_m, code: string) =>
    hold(`<pre>${escapeHtml(unescapeSlack(code.replace(/^\n/, "")))}</pre>`),
  );
  s = s.replace(/`([^`\n]+)`/g, (_m, code: string) =>
    hold(`<code>${escapeHtml(unescapeSlack(code))}</code>`),
  );
  s = s.replace(/<([^<>\n]+)>/g, (_m, inner: string) => hold(reference(inner, workspace)));
  s = escapeHtml(unescapeSlack(s));
  s = s.replace(/\*([^*\n]+)\*/g, "<strong>$1</strong>");
  s = s.replace(/(^|[^\p{L}\p{N}_])_([^_\n]+)_(?![\p{L}\p{N}_])/gu, "$1<em>$2</em>");
  s = s.replace(/~([^~\n]+)~/g, "<s>$1</s>");
  s = s.replace(/:([a-z0-9_+-]+):/g, (whole, name: string) => EMOJI[name] ?? whole);
  s = s
    .split("\n")
    .map((line) => (line.startsWith("&gt; ") ? `<span class="quote">${line.slice(5)}</span>` : line))
    .join("<br>");
  s = s.replace(new RegExp(`${HOLD_OPEN}(\\d+)${HOLD_CLOSE}`, "g"), (_m, i: string) => held[Number(i)] ?? "");
  return raw(s);
}

/** Plain text (a `plain_text` object, or an ephemeral's text) as HTML: escaped, emoji, line breaks. */
export function plainToHtml(text: string, emoji = true): SafeHtml {
  let s = escapeHtml(text);
  if (emoji) s = s.replace(/:([a-z0-9_+-]+):/g, (whole, name: string) => EMOJI[name] ?? whole);
  return raw(s.replace(/\n/g, "<br>"));
}
