import postgres from "postgres";
import { describe, expect, it } from "vitest";
import { MIGRATIONS_FOLDER, openPostgres } from "../../src/db/index.js";
import { expectedMigrations } from "../../src/db/migrations.js";
import { createEmptyPostgresDatabase, TEST_DATABASE_URL, testLogger } from "../helpers/db.js";

describe.skipIf(!TEST_DATABASE_URL)("migrating one Postgres database from several replicas", () => {
  it("five replicas migrating the same empty database at the same moment all succeed, and each migration is applied once", async () => {
    const created = await createEmptyPostgresDatabase();
    const replicas = Array.from({ length: 5 }, () => openPostgres(created.url, testLogger, { max: 2 }));
    try {
      const results = await Promise.allSettled(replicas.map((r) => r.migrate()));
      expect(results.map((r) => r.status)).toEqual(Array(5).fill("fulfilled"));
      for (const r of replicas) expect(await r.migrationsCurrent()).toBe(true);
      const sql = postgres(created.url, { max: 1 });
      const applied = await sql`select hash from drizzle.__drizzle_migrations order by id`;
      await sql.end();
      expect(applied.map((r) => r.hash)).toEqual(expectedMigrations(MIGRATIONS_FOLDER).map((m) => m.hash));
    } finally {
      await Promise.all(replicas.map((r) => r.close()));
      await created.drop();
    }
  });
});
