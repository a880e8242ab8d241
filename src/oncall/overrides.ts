/** Overrides as use cases: set one, undo one, list them; checked, audited, stored in Postgres. */
import type { AccessControl } from "../access/index.js";
import type { AuditLog } from "../audit/index.js";
import type { MlopsConfig } from "../config/index.js";
import type { Db } from "../db/index.js";
import type { Clock } from "../shared/clock.js";
import { OnCallError } from "./errors.js";
import type { Override } from "./model.js";
import { createOverrideRepository, type OverrideRow } from "./override-repository.js";
import type { OverrideSource } from "./service.js";

/** How far back the engine is given overrides: the feed's 8 weeks plus a shift's 35-day look-back. */
const KEEP_MS = 100 * 86_400_000;
const USER_ID = /^[UW][A-Z0-9]{2,}$/;

/** What the override service needs. */
export interface OverrideDeps {
  db: Db;
  config: MlopsConfig;
  clock: Clock;
  access: Pick<AccessControl, "can">;
  audit: Pick<AuditLog, "record">;
  /** Whether Slack knows user `id` (users.info); every well-formed id when absent. */
  isUser?: (id: string) => Promise<boolean>;
}

/** A request to put `who` on call in `schedule` during [from, to). */
export interface OverrideRequest {
  actor: string;
  schedule: string;
  who: string;
  from: Date;
  to: Date;
}

/** The Slack users a schedule names: its layers' people and its imported calendar's mapping. */
export function scheduleMembers(config: MlopsConfig, schedule: string): Set<string> {
  const s = config.schedules[schedule];
  const users = [...(s?.layers ?? []).flatMap((l) => l.users), ...Object.values(s?.ical?.users ?? {})];
  return new Set(users);
}

/** The override as the engine takes it. */
export function toOverride(row: OverrideRow): Override {
  return {
    id: String(row.id),
    schedule: row.schedule,
    user: row.who,
    from: row.from,
    to: row.to,
    undoneAt: row.undoneAt,
  };
}

/** Creates the override service. */
export function createOverrideService(deps: OverrideDeps) {
  const repo = createOverrideRepository(deps.db);
  const manageable = deps.config.workspace.permissions.manage_oncall;

  /**
   * Who may set or undo an override on `schedule`: its own people (they swap and cover for each
   * other), and whoever `workspace.permissions.manage_oncall` names (there `owners` is the owners
   * of any model, as for `manage_outbox`).
   */
  async function mayManage(actor: string, schedule: string): Promise<boolean> {
    if (scheduleMembers(deps.config, schedule).has(actor)) return true;
    if ((await deps.access.can(actor, "manage_oncall")).allowed) return true;
    if (!manageable.includes("owners")) return false;
    for (const m of deps.config.models)
      if ((await deps.access.can(actor, "manage_oncall", m.slug)).allowed) return true;
    return false;
  }

  async function refuse(
    actor: string,
    action: string,
    target: string,
    detail: Record<string, unknown>,
  ): Promise<never> {
    await deps.audit.record({ source: "slack", actor, action, target, outcome: "refused", detail });
    throw new OnCallError(
      "not_allowed",
      `Only the people of \`${target}\` and those \`workspace.permissions.manage_oncall\` names (${manageable.join(", ")}) may change its on-call.`,
    );
  }

  return {
    /** Whether `actor` may set or undo overrides on `schedule`. */
    mayManage,

    /** The schedules `actor` may set overrides on, in config order (none: the modal is not offered). */
    async manageable(actor: string): Promise<string[]> {
      const out: string[] = [];
      for (const name of Object.keys(deps.config.schedules)) if (await mayManage(actor, name)) out.push(name);
      return out;
    },

    /** Stores an override after checking it; throws OnCallError (nothing written) when it is refused. */
    async create(req: OverrideRequest): Promise<OverrideRow> {
      if (!deps.config.schedules[req.schedule]) {
        const known = Object.keys(deps.config.schedules);
        throw new OnCallError(
          "unknown_schedule",
          `There is no schedule \`${req.schedule}\` (known: ${known.join(", ") || "none"}).`,
        );
      }
      if (!USER_ID.test(req.who) || (deps.isUser && !(await deps.isUser(req.who))))
        throw new OnCallError(
          "bad_override",
          `\`${req.who.slice(0, 40)}\` is not a Slack user: mention them (\`@name\`).`,
        );
      if (!(req.from.getTime() < req.to.getTime()))
        throw new OnCallError("bad_override", "The override must end after it starts.");
      const now = deps.clock.now();
      if (req.to.getTime() <= now.getTime())
        throw new OnCallError("bad_override", "The override ends in the past: the past cannot be changed.");
      const detail = { who: req.who, from: req.from.toISOString(), to: req.to.toISOString() };
      if (!(await mayManage(req.actor, req.schedule)))
        await refuse(req.actor, "oncall.override", req.schedule, detail);
      const row = await repo.insert({
        schedule: req.schedule,
        who: req.who,
        from: req.from,
        to: req.to,
        createdBy: req.actor,
        createdAt: now,
      });
      await deps.audit.record({
        source: "slack",
        actor: req.actor,
        action: "oncall.override",
        target: req.schedule,
        outcome: "ok",
        detail: { id: row.id, ...detail },
      });
      return row;
    },

    /** Undoes override `id`; throws OnCallError when it does not exist, is undone, or the actor may not. */
    async undo(actor: string, id: number): Promise<OverrideRow> {
      const row = Number.isSafeInteger(id) ? await repo.get(id) : undefined;
      if (!row) throw new OnCallError("unknown_override", `There is no override ${id}.`);
      if (row.undoneAt)
        throw new OnCallError("already_undone", `Override ${id} was already undone by <@${row.undoneBy}>.`);
      if (!(await mayManage(actor, row.schedule)))
        await refuse(actor, "oncall.override.undo", row.schedule, { id });
      const undone = await repo.undo(id, actor, deps.clock.now());
      if (!undone) throw new OnCallError("already_undone", `Override ${id} was already undone.`);
      await deps.audit.record({
        source: "slack",
        actor,
        action: "oncall.override.undo",
        target: row.schedule,
        outcome: "ok",
        detail: { id, who: row.who, from: row.from.toISOString(), to: row.to.toISOString() },
      });
      return undone;
    },

    /** Overrides of `schedule` in force that have not ended at `at`, oldest first. */
    upcoming(schedule: string, at: Date = deps.clock.now()): Promise<OverrideRow[]> {
      return repo.active(schedule, at);
    },

    /** The engine's source of overrides: those in force from 100 days back. */
    source(): OverrideSource {
      return {
        list: async (schedule) =>
          (await repo.active(schedule, new Date(deps.clock.now().getTime() - KEEP_MS))).map(toOverride),
      };
    },
  };
}

/** The override service. */
export type OverrideService = ReturnType<typeof createOverrideService>;
