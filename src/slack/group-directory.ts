import type { WebClient } from "@slack/web-api";
import type { GroupDirectory, GroupRef } from "../access/index.js";
import type { Logger } from "../shared/logger.js";

/** How long a group's membership is trusted before Slack is asked again. */
const MEMBERS_TTL_MS = 60_000;

/**
 * User-group membership from Slack (`usergroups.list` to find a group's id by handle once,
 * `usergroups.users.list` for its members), cached for a minute so a burst of clicks costs one
 * lookup. When Slack cannot be reached the last known membership is used; with none, nobody.
 * The client is passed as a getter because the Slack app is built after the server listens.
 */
export function slackGroupDirectory(
  client: () => WebClient,
  logger: Logger,
  now: () => number = Date.now,
): GroupDirectory {
  const ids = new Map<string, string>();
  const members = new Map<string, { users: string[]; at: number }>();
  const inflight = new Map<string, Promise<string[]>>();

  async function resolveId(group: GroupRef): Promise<string | undefined> {
    if (group.id) return group.id;
    const known = ids.get(group.handle);
    if (known) return known;
    const res = await client().usergroups.list({ include_users: false });
    for (const g of res.usergroups ?? []) if (g.handle && g.id) ids.set(g.handle, g.id);
    return ids.get(group.handle);
  }

  async function fetchMembers(group: GroupRef): Promise<string[]> {
    const id = await resolveId(group);
    if (!id) {
      logger.warn({ handle: group.handle }, "user group not found in Slack; treating it as empty");
      return [];
    }
    const res = await client().usergroups.users.list({ usergroup: id });
    return res.users ?? [];
  }

  return {
    async members(group) {
      const cached = members.get(group.handle);
      if (cached && now() - cached.at < MEMBERS_TTL_MS) return cached.users;
      let pending = inflight.get(group.handle);
      if (!pending) {
        pending = fetchMembers(group)
          .then((users) => {
            members.set(group.handle, { users, at: now() });
            return users;
          })
          .catch((err: unknown) => {
            logger.warn(
              { err: (err as Error).message, handle: group.handle },
              "could not read user-group members",
            );
            return cached?.users ?? [];
          })
          .finally(() => inflight.delete(group.handle));
        inflight.set(group.handle, pending);
      }
      return pending;
    },
  };
}
