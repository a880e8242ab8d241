import { and, asc, eq, inArray, isNull, sql } from "drizzle-orm";
import type { Db } from "../db/index.js";
import { apiTokens } from "../db/schema/index.js";

/** The only code touching `api_tokens`. */
export function createApiTokenRepository(db: Db) {
  return {
    async insert(row: { name: string; tokenHash: string; prefix: string; scopes: string[] }) {
      // The partial unique index on active names is the arbiter: two creates of one name race safely.
      const [created] = await db.insert(apiTokens).values(row).onConflictDoNothing().returning();
      return created;
    },
    async findActiveByHash(tokenHash: string) {
      const [row] = await db
        .select({ id: apiTokens.id, name: apiTokens.name, scopes: apiTokens.scopes })
        .from(apiTokens)
        .where(and(eq(apiTokens.tokenHash, tokenHash), isNull(apiTokens.revokedAt)));
      return row;
    },
    async findActiveById(id: number) {
      const [row] = await db
        .select({ id: apiTokens.id, name: apiTokens.name, scopes: apiTokens.scopes })
        .from(apiTokens)
        .where(and(eq(apiTokens.id, id), isNull(apiTokens.revokedAt)));
      return row;
    },
    /** Records when each token was last used, in one statement (never moves a time backwards). */
    async touchMany(uses: { id: number; at: Date }[]) {
      if (!uses.length) return;
      const at = new Date(Math.max(...uses.map((u) => u.at.getTime())));
      await db
        .update(apiTokens)
        .set({ lastUsedAt: sql`greatest(${apiTokens.lastUsedAt}, ${at.toISOString()}::timestamptz)` })
        .where(
          inArray(
            apiTokens.id,
            uses.map((u) => u.id),
          ),
        );
    },
    async revoke(name: string, at: Date): Promise<boolean> {
      const rows = await db
        .update(apiTokens)
        .set({ revokedAt: at })
        .where(and(eq(apiTokens.name, name), isNull(apiTokens.revokedAt)))
        .returning({ id: apiTokens.id });
      return rows.length > 0;
    },
    async list() {
      return db
        .select({
          name: apiTokens.name,
          prefix: apiTokens.prefix,
          scopes: apiTokens.scopes,
          createdAt: apiTokens.createdAt,
          lastUsedAt: apiTokens.lastUsedAt,
          revokedAt: apiTokens.revokedAt,
        })
        .from(apiTokens)
        .orderBy(asc(apiTokens.name), asc(apiTokens.createdAt));
    },
  };
}
