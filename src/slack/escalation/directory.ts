import type { GroupRef } from "../../access/index.js";
import type { PageDirectory } from "../../escalation/index.js";
import { openDm, type SlackApi } from "../web-api.js";

/**
 * The Slack reads paging needs, through the Web API wrapper: group ids by handle
 * (`usergroups.list`, remembered), members (`usergroups.users.list`, asked each time: a page goes
 * to whoever is in the group now), DM channels (`conversations.open`) and the workspace URL for thread links
 * (`auth.test`, remembered). Failures throw, and the page is tried again later.
 */
export function slackPageDirectory(api: () => SlackApi): PageDirectory {
  const ids = new Map<string, string>();
  let teamUrl: string | undefined;
  async function groupId(group: GroupRef): Promise<string | null> {
    if (group.id) return group.id;
    const known = ids.get(group.handle);
    if (known) return known;
    const res = await api().call("usergroups.list", { include_users: false });
    for (const g of (res.usergroups ?? []) as { id?: string; handle?: string }[])
      if (g.id && g.handle) ids.set(g.handle, g.id);
    return ids.get(group.handle) ?? null;
  }
  return {
    groupId,
    async members(group) {
      const id = await groupId(group);
      if (!id) return [];
      const res = await api().call("usergroups.users.list", { usergroup: id });
      return Array.isArray(res.users)
        ? (res.users as unknown[]).filter((u): u is string => typeof u === "string")
        : [];
    },
    openDm(user) {
      return openDm(api(), user);
    },
    async link(channel, ts) {
      if (!teamUrl) {
        const auth = await api().call("auth.test", {});
        teamUrl = typeof auth.url === "string" ? auth.url : undefined;
      }
      if (!teamUrl) return null;
      return `${teamUrl.replace(/\/?$/, "/")}archives/${channel}/p${ts.replace(".", "")}`;
    },
  };
}
