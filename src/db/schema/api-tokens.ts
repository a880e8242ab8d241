import { pgTable, serial, text, timestamp } from "drizzle-orm/pg-core";

/** Bearer tokens for the HTTP API. Only a SHA-256 of each token is stored. */
export const apiTokens = pgTable("api_tokens", {
  id: serial().primaryKey(),
  name: text().notNull().unique(),
  tokenHash: text().notNull().unique(),
  /** The first characters of the token, so a person can tell tokens apart in a listing. */
  prefix: text().notNull(),
  createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  lastUsedAt: timestamp({ withTimezone: true }),
  revokedAt: timestamp({ withTimezone: true }),
});
