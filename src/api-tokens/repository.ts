import { and, asc, eq, isNull } from "drizzle-orm";
import type { Db } from "../db/index.js";
import { apiTokens } from "../db/schema/index.js";

/** The only code touching `api_tokens`. */
export function createApiTokenRepository(db: Db) {
  return {
    async insert(row: { name: string; tokenHash: string; prefix: string }) {
      const [created] = await db.insert(apiTokens).values(row).onConflictDoNothing().returning();
      return created;
    },
    async findActiveByHash(tokenHash: string) {
      const [row] = await db
        .select({ id: apiTokens.id, name: apiTokens.name })
        .from(apiTokens)
        .where(and(eq(apiTokens.tokenHash, tokenHash), isNull(apiTokens.revokedAt)));
      return row;
    },
    async touch(id: number, at: Date) {
      await db.update(apiTokens).set({ lastUsedAt: at }).where(eq(apiTokens.id, id));
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
          createdAt: apiTokens.createdAt,
          lastUsedAt: apiTokens.lastUsedAt,
          revokedAt: apiTokens.revokedAt,
        })
        .from(apiTokens)
        .orderBy(asc(apiTokens.name));
    },
  };
}
