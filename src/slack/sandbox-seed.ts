import type { MlopsConfig } from "../config/index.js";
import type { SandboxSeed } from "./sandbox/index.js";

/**
 * The sandbox workspace a config implies: its seeded people, every channel alerts can go to, and
 * each configured user group with the seeded people who belong to it.
 */
export function sandboxSeedFromConfig(config: MlopsConfig): SandboxSeed {
  const channelNames = new Set<string>([
    config.workspace.alert_channel,
    ...config.models.map((m) => m.alert_channel ?? config.workspace.alert_channel),
    ...config.sandbox.channels,
  ]);
  return {
    team: { id: "T0SANDBOX", name: config.workspace.name, domain: config.workspace.name },
    users: config.sandbox.users.map((u) => ({
      id: u.id,
      name: u.name,
      real_name: u.real_name,
      ...(u.tz ? { tz: u.tz } : {}),
    })),
    channels: [...channelNames].filter((c) => !/^[CG][A-Z0-9]+$/.test(c)).map((name) => ({ name })),
    userGroups: Object.entries(config.workspace.user_groups).map(([key, g]) => ({
      ...(g.id ? { id: g.id } : {}),
      handle: g.handle,
      name: g.description ?? key,
      users: config.sandbox.users.filter((u) => u.groups.includes(key)).map((u) => u.id),
    })),
  };
}
