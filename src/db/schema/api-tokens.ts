import { isNull, sql } from "drizzle-orm";
import { pgTable, serial, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";

/**
 * Bearer tokens for the HTTP API. Only a SHA-256 of each token is stored. A name is unique among
 * active tokens only, so a revoked token's name can be given to its replacement.
 */
export const apiTokens = pgTable(
  "api_tokens",
  {
    id: serial().primaryKey(),
    name: text().notNull(),
    tokenHash: text().notNull().unique(),
    /** The first characters of the token, so a person can tell tokens apart in a listing. */
    prefix: text().notNull(),
    /** What the token may do (`ingest`, `alerts`, `pipeline`, `read`, `admin`); empty means everything. */
    scopes: text().array().notNull().default(sql`'{}'::text[]`),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    lastUsedAt: timestamp({ withTimezone: true }),
    revokedAt: timestamp({ withTimezone: true }),
  },
  (t) => [uniqueIndex("api_tokens_active_name").on(t.name).where(isNull(t.revokedAt))],
);
