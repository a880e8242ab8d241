import type { MlopsConfig, PermissionAction } from "../config/index.js";
import type { GroupDirectory } from "./ports.js";

/** The answer to "may this person do this?", with the reason to show when not. */
export interface AccessDecision {
  allowed: boolean;
  /** The principals that would have allowed it, for the refusal message. */
  allowedPrincipals: string[];
  /** Which principal matched, when allowed. */
  matched?: string;
}

/**
 * Decides who may do what from `workspace.permissions`: a principal is a user-group key, `owners`
 * (the model's L3 group, so only meaningful for an action on a model) or a Slack user id.
 */
export function createAccessControl(config: MlopsConfig, directory: GroupDirectory) {
  const groups = config.workspace.user_groups;

  async function groupKeysOf(userId: string): Promise<string[]> {
    const keys: string[] = [];
    for (const [key, ref] of Object.entries(groups)) {
      if ((await directory.members(ref)).includes(userId)) keys.push(key);
    }
    return keys;
  }

  return {
    /** May `userId` perform `action`, on `modelSlug` when the action concerns one model? */
    async can(userId: string, action: PermissionAction, modelSlug?: string): Promise<AccessDecision> {
      const principals = config.workspace.permissions[action];
      const model = modelSlug ? config.models.find((m) => m.slug === modelSlug) : undefined;
      for (const p of principals) {
        if (p === userId) return { allowed: true, allowedPrincipals: principals, matched: p };
        const key = p === "owners" ? model?.owners : p;
        const ref = key ? groups[key] : undefined;
        if (ref && (await directory.members(ref)).includes(userId)) {
          return { allowed: true, allowedPrincipals: principals, matched: p };
        }
      }
      return { allowed: false, allowedPrincipals: principals };
    },
    /** The configured group keys `userId` belongs to. */
    groupsOf: groupKeysOf,
    /** Every action `userId` may perform on `modelSlug` (or workspace-wide without owners). */
    async actionsOf(userId: string, modelSlug?: string): Promise<PermissionAction[]> {
      const actions = Object.keys(config.workspace.permissions) as PermissionAction[];
      const allowed: PermissionAction[] = [];
      for (const a of actions) if ((await this.can(userId, a, modelSlug)).allowed) allowed.push(a);
      return allowed;
    },
  };
}

/** The access-control service. */
export type AccessControl = ReturnType<typeof createAccessControl>;

/** Describes who may do an action, for a refusal: "@mlops-oncall, @ds-oncall or the model's owners". */
export function describePrincipals(config: MlopsConfig, principals: string[], modelSlug?: string): string {
  const model = modelSlug ? config.models.find((m) => m.slug === modelSlug) : undefined;
  const names = principals.map((p) => {
    if (p === "owners") {
      const owners = model ? config.workspace.user_groups[model.owners] : undefined;
      return owners ? `@${owners.handle} (the model's owners)` : "the model's owners";
    }
    const group = config.workspace.user_groups[p];
    return group ? `@${group.handle}` : `<@${p}>`;
  });
  if (names.length <= 1) return names[0] ?? "nobody";
  return `${names.slice(0, -1).join(", ")} or ${names.at(-1)}`;
}
