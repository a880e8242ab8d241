/** The only code touching `oncall_overrides`. */
import { and, asc, eq, gt, isNull } from "drizzle-orm";
import type { Db } from "../db/index.js";
import { oncallOverrides } from "../db/schema/index.js";

/** A stored override, as the table holds it. */
export type OverrideRow = typeof oncallOverrides.$inferSelect;

/** Creates the override repository over `db`. */
export function createOverrideRepository(db: Db) {
  return {
    /** Stores a new override; returns it with its id. */
    async insert(row: Omit<OverrideRow, "id" | "undoneBy" | "undoneAt">): Promise<OverrideRow> {
      const [created] = await db.insert(oncallOverrides).values(row).returning();
      return created as OverrideRow;
    },
    /** The override `id`, if any. */
    async get(id: number): Promise<OverrideRow | undefined> {
      const [row] = await db.select().from(oncallOverrides).where(eq(oncallOverrides.id, id));
      return row;
    },
    /** Marks `id` undone unless it already is; the row when this call undid it. */
    async undo(id: number, by: string, at: Date): Promise<OverrideRow | undefined> {
      const [row] = await db
        .update(oncallOverrides)
        .set({ undoneBy: by, undoneAt: at })
        .where(and(eq(oncallOverrides.id, id), isNull(oncallOverrides.undoneAt)))
        .returning();
      return row;
    },
    /** The overrides of `schedule` still in force that end after `after`, in order of start, then id. */
    async active(schedule: string, after: Date): Promise<OverrideRow[]> {
      return db
        .select()
        .from(oncallOverrides)
        .where(
          and(
            eq(oncallOverrides.schedule, schedule),
            isNull(oncallOverrides.undoneAt),
            gt(oncallOverrides.to, after),
          ),
        )
        .orderBy(asc(oncallOverrides.id));
    },
  };
}

/** The override repository. */
export type OverrideRepository = ReturnType<typeof createOverrideRepository>;
