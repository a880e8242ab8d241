import { randomBytes } from "node:crypto";
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { type Database, MIGRATIONS_FOLDER, openPglite, openPostgres } from "../../src/db/index.js";
import { createLogger } from "../../src/shared/logger.js";

/** The Postgres server tests run against, when set; otherwise tests use embedded PGlite. */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL || undefined;

/** A quiet logger for tests (LOG_LEVEL=debug to see what the bot logs). */
export const testLogger = createLogger(process.env.TEST_LOG_LEVEL ?? "silent");

/** A fresh, empty Postgres database for one test file; returns its URL and a dropper. */
export async function createEmptyPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  if (!TEST_DATABASE_URL) throw new Error("TEST_DATABASE_URL is not set");
  const name = `mlops_test_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
  const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const a = postgres(TEST_DATABASE_URL as string, { max: 1, onnotice: () => {} });
      await a.unsafe(`drop database if exists ${name} with (force)`);
      await a.end();
    },
  };
}

/**
 * One migrated database for a test file: a new Postgres database when TEST_DATABASE_URL is set,
 * else an in-memory PGlite. `close()` also drops the Postgres database.
 */
export async function openTestDatabase(): Promise<Database & { url: string | undefined }> {
  if (TEST_DATABASE_URL) {
    const created = await createEmptyPostgresDatabase();
    const database = openPostgres(created.url, testLogger, { max: 5 });
    await database.migrate();
    return {
      ...database,
      url: created.url,
      async close() {
        await database.close();
        await created.drop();
      },
    };
  }
  const database = await openPglite(null, testLogger);
  await database.migrate();
  return { ...database, url: undefined };
}

/** The shipped migrations up to and including `last`, in a temporary folder of their own (the caller removes it). */
export function migrationsUpTo(last: string): string {
  const dir = mkdtempSync(join(tmpdir(), "mlops-migrations-"));
  cpSync(MIGRATIONS_FOLDER, dir, { recursive: true });
  const journalPath = join(dir, "meta", "_journal.json");
  const journal = JSON.parse(readFileSync(journalPath, "utf8")) as { entries: { tag: string }[] };
  const end = journal.entries.findIndex((e) => e.tag === last);
  if (end < 0) throw new Error(`no migration ${last}`);
  journal.entries = journal.entries.slice(0, end + 1);
  writeFileSync(journalPath, JSON.stringify(journal));
  return dir;
}
