/** The Slack side of user groups that follow a schedule: usergroups.users.list and .update. */
import type { UserGroupMembers } from "../../oncall/index.js";
import type { SlackApi } from "../web-api.js";

/**
 * Reads and sets a user group's members; a handle is turned into its id with `usergroups.list`
 * (remembered). Throws while Slack is not connected, so the tick fails and the next one retries.
 */
export function slackUserGroupMembers(api: () => SlackApi | undefined): UserGroupMembers {
  const ids = new Map<string, string>();
  function connected(): SlackApi {
    const a = api();
    if (!a) throw new Error("Slack is not connected yet");
    return a;
  }
  async function idOf(group: string): Promise<string> {
    if (/^S[A-Z0-9]{2,}$/.test(group)) return group;
    const known = ids.get(group);
    if (known) return known;
    const res = await connected().call("usergroups.list", { include_users: false });
    for (const g of (res.usergroups ?? []) as { id?: string; handle?: string }[])
      if (g.id && g.handle) ids.set(g.handle, g.id);
    const id = ids.get(group);
    if (!id) throw new Error(`no Slack user group @${group}`);
    return id;
  }
  return {
    async members(group) {
      const res = await connected().call("usergroups.users.list", { usergroup: await idOf(group) });
      return ((res.users ?? []) as string[]).slice();
    },
    async set(group, users) {
      await connected().call("usergroups.users.update", {
        usergroup: await idOf(group),
        users: users.join(","),
      });
    },
  };
}
