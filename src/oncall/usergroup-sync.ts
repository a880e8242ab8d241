/**
 * User groups that follow a schedule: each claimed minute tick compares a schedule's Slack user
 * group with who is on call and sets it when they differ, so `@ds-oncall` means the person on duty.
 */
import type { MlopsConfig } from "../config/index.js";
import type { OnCallService } from "./service.js";

/** The tick's cron: every minute, so a handoff shows in the group within a minute. */
export const USERGROUP_SYNC_CRON = "* * * * *";

/** A Slack user group's members (usergroups.users.list / .update behind it). */
export interface UserGroupMembers {
  /** The group's members now; `group` is an id (`S…`) or a handle. */
  members(group: string): Promise<string[]>;
  /** Makes `users` the group's only members. */
  set(group: string, users: string[]): Promise<void>;
}

/** What one tick changed in one group: at a handoff, or correcting a change made by hand. */
export interface GroupChange {
  schedule: string;
  group: string;
  kind: "handoff" | "drift";
  before: string[];
  after: string[];
}

/** What the sync needs. */
export interface UserGroupSyncDeps {
  config: Pick<MlopsConfig, "schedules">;
  oncall: Pick<OnCallService, "names" | "whoIsOn">;
  groups: UserGroupMembers;
  /** Told about every change (drift is logged as a warning and audited by the caller). */
  changed?: (change: GroupChange) => Promise<void> | void;
}

/** Creates the sync; `run(tickAt)` returns the changes it made. */
export function createUserGroupSync(deps: UserGroupSyncDeps) {
  return {
    /**
     * Sets each following group to the person on call at `tickAt`. Reading the group every tick
     * (rather than only at handoffs) is what finds a change made by hand, and the state after a
     * Slack outage or a restart: a tick that fails leaves the work to the next one. When nobody is
     * on call the group is left alone (Slack cannot empty a group this way). A difference is a
     * `handoff` when the person on call a minute earlier was someone else, else `drift`.
     */
    async run(tickAt: Date): Promise<GroupChange[]> {
      const changes: GroupChange[] = [];
      const failures: Error[] = [];
      for (const name of deps.oncall.names()) {
        const group = deps.config.schedules[name]?.usergroup;
        if (!group) continue;
        try {
          const on = (await deps.oncall.whoIsOn(name, tickAt))?.user;
          if (!on) continue;
          const before = await deps.groups.members(group);
          if (before.length === 1 && before[0] === on) continue;
          const earlier = (await deps.oncall.whoIsOn(name, new Date(tickAt.getTime() - 60_000)))?.user;
          await deps.groups.set(group, [on]);
          const change: GroupChange = {
            schedule: name,
            group,
            kind: earlier !== on ? "handoff" : "drift",
            before,
            after: [on],
          };
          changes.push(change);
          await deps.changed?.(change);
        } catch (err) {
          failures.push(err as Error);
        }
      }
      // One group's failure (Slack down, a bad handle) does not hold back the others.
      if (failures.length) throw new Error(`user group sync: ${failures.map((e) => e.message).join("; ")}`);
      return changes;
    },
  };
}
