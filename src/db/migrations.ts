import { readMigrationFiles } from "drizzle-orm/migrator";

/** The migrations this build ships (hash and timestamp), read once per folder. */
const cache = new Map<string, { hash: string; folderMillis: number }[]>();

/** Lists the migrations in `folder` as drizzle records them once applied. */
export function expectedMigrations(folder: string): { hash: string; folderMillis: number }[] {
  let list = cache.get(folder);
  if (!list) {
    list = readMigrationFiles({ migrationsFolder: folder }).map((m) => ({
      hash: m.hash,
      folderMillis: m.folderMillis,
    }));
    cache.set(folder, list);
  }
  return list;
}
