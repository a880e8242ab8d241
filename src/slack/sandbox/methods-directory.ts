import { type ApiHandler, argBool, argString, fail } from "./api-types.js";
import type { SandboxChannel, SandboxUser, SandboxUserGroup } from "./types.js";
import type { SandboxWorkspace } from "./workspace.js";

function apiUser(workspace: SandboxWorkspace, user: SandboxUser): Record<string, unknown> {
  return {
    id: user.id,
    team_id: workspace.team.id,
    name: user.name,
    real_name: user.real_name,
    tz: user.tz,
    deleted: false,
    is_bot: user.is_bot,
    profile: { real_name: user.real_name, display_name: user.name },
  };
}

function apiGroup(
  workspace: SandboxWorkspace,
  group: SandboxUserGroup,
  includeUsers: boolean,
): Record<string, unknown> {
  return {
    id: group.id,
    team_id: workspace.team.id,
    is_usergroup: true,
    handle: group.handle,
    name: group.name,
    user_count: group.users.length,
    ...(includeUsers ? { users: [...group.users] } : {}),
  };
}

function apiChannel(channel: SandboxChannel): Record<string, unknown> {
  return {
    id: channel.id,
    name: channel.kind === "channel" ? channel.name : undefined,
    is_channel: channel.kind === "channel",
    is_im: channel.kind === "im",
    is_mpim: channel.kind === "mpim",
    ...(channel.kind === "im" ? { user: channel.members[0] } : {}),
  };
}

const authTest: ApiHandler = ({ workspace }) => ({
  ok: true,
  url: `https://${workspace.team.domain}.slack.com/`,
  team: workspace.team.name,
  user: workspace.bot.name,
  team_id: workspace.team.id,
  user_id: workspace.bot.userId,
  bot_id: workspace.bot.botId,
  is_enterprise_install: false,
});

const usersInfo: ApiHandler = ({ workspace, args }) => {
  const id = argString(args, "user");
  const user = id ? workspace.user(id) : undefined;
  return user ? { ok: true, user: apiUser(workspace, user) } : fail("user_not_found");
};

const usergroupsList: ApiHandler = ({ workspace, args }) => ({
  ok: true,
  usergroups: workspace
    .userGroups()
    .map((group) => apiGroup(workspace, group, argBool(args, "include_users"))),
});

const usergroupsUsersList: ApiHandler = ({ workspace, args }) => {
  const id = argString(args, "usergroup");
  if (!id) return fail("invalid_arguments");
  const group = workspace.userGroup(id);
  return group ? { ok: true, users: [...group.users] } : fail("no_such_subteam");
};

const usergroupsUsersUpdate: ApiHandler = ({ workspace, args }) => {
  const id = argString(args, "usergroup");
  if (!id) return fail("invalid_arguments");
  const group = workspace.userGroup(id);
  if (!group) return fail("no_such_subteam");
  const users = (argString(args, "users") ?? "")
    .split(",")
    .map((u) => u.trim())
    .filter((u) => u !== "");
  // Slack never empties a group this way: it needs at least one user, each one known.
  if (users.length === 0) return fail("no_users_provided");
  if (users.some((u) => !workspace.user(u))) return fail("invalid_users");
  group.users.splice(0, group.users.length, ...new Set(users));
  return { ok: true, usergroup: apiGroup(workspace, group, true) };
};

const conversationsOpen: ApiHandler = ({ workspace, args }) => {
  const channelId = argString(args, "channel");
  if (channelId) {
    const channel = workspace.channel(channelId);
    return channel && channel.kind !== "channel"
      ? { ok: true, channel: { id: channel.id } }
      : fail("channel_not_found");
  }
  const users = (argString(args, "users") ?? "")
    .split(",")
    .map((id) => id.trim())
    .filter((id) => id !== "" && id !== workspace.bot.userId);
  if (users.length === 0) return fail("users_list_not_supplied");
  if (users.length > 8) return fail("too_many_users");
  if (users.some((id) => !workspace.user(id))) return fail("user_not_found");
  const { channel, alreadyOpen } = workspace.openDm(users);
  const shaped = argBool(args, "return_im") ? apiChannel(channel) : { id: channel.id };
  return { ok: true, ...(alreadyOpen ? { no_op: true, already_open: true } : {}), channel: shaped };
};

const conversationsInfo: ApiHandler = ({ workspace, args }) => {
  const id = argString(args, "channel");
  const channel = id ? workspace.resolveChannel(id) : undefined;
  return channel ? { ok: true, channel: apiChannel(channel) } : fail("channel_not_found");
};

/** auth.test, users.info, usergroups.list, usergroups.users.list/update, conversations.open and conversations.info. */
export const directoryMethods: Record<string, ApiHandler> = {
  "auth.test": authTest,
  "users.info": usersInfo,
  "usergroups.list": usergroupsList,
  "usergroups.users.list": usergroupsUsersList,
  "usergroups.users.update": usergroupsUsersUpdate,
  "conversations.open": conversationsOpen,
  "conversations.info": conversationsInfo,
};
