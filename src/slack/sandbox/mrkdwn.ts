import type { SandboxWorkspace } from "./workspace.js";

function unescapeEntities(text: string): string {
  return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

/** Renders Slack mrkdwn references readably: `<@U…>` → `@name`, `<!subteam^S…>` → `@handle`, `<#C…>` → `#name`, links → `label (url)`. */
export function renderMrkdwn(text: string, workspace: SandboxWorkspace): string {
  const rendered = text.replace(/<([^<>]+)>/g, (_whole, inner: string) => {
    const bar = inner.indexOf("|");
    const target = bar >= 0 ? inner.slice(0, bar) : inner;
    const label = bar >= 0 ? inner.slice(bar + 1) : undefined;
    if (target.startsWith("@")) {
      const id = target.slice(1);
      return `@${workspace.user(id)?.name ?? label?.replace(/^@/, "") ?? id}`;
    }
    if (target.startsWith("#")) {
      const id = target.slice(1);
      const channel = workspace.channel(id);
      return channel ? workspace.channelLabel(channel.id) : `#${label ?? id}`;
    }
    if (target.startsWith("!subteam^")) {
      const id = target.slice("!subteam^".length);
      return `@${workspace.userGroup(id)?.handle ?? label?.replace(/^@/, "") ?? id}`;
    }
    if (target.startsWith("!date^")) return label ?? target;
    if (target.startsWith("!")) return `@${label?.replace(/^@/, "") ?? target.slice(1)}`;
    return label ? `${label} (${target})` : target;
  });
  return unescapeEntities(rendered);
}
