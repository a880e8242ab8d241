import postgres from "postgres";
import { describe, expect, it } from "vitest";
import { MIGRATIONS_FOLDER } from "../../src/db/index.js";
import { expectedMigrations } from "../../src/db/migrations.js";
import { createEmptyPostgresDatabase, TEST_DATABASE_URL } from "../helpers/db.js";
import { freePort, spawnBot, waitForStatus } from "../helpers/process.js";

describe.skipIf(!TEST_DATABASE_URL)("replicas on one Postgres", () => {
  it("two processes starting at once against one empty database both become ready, migrations applied once", async () => {
    const created = await createEmptyPostgresDatabase();
    const ports = [await freePort(), await freePort()];
    const bots = ports.map((port) =>
      spawnBot({
        PORT: String(port),
        HOST: "127.0.0.1",
        DATABASE_URL: created.url,
        MLOPS_SANDBOX: "1",
        LOG_LEVEL: "info",
      }),
    );
    try {
      await Promise.all(ports.map((port) => waitForStatus(`http://127.0.0.1:${port}/readyz`, 30_000)));
      for (const port of ports) {
        expect(await (await fetch(`http://127.0.0.1:${port}/readyz`)).json()).toEqual({
          status: "ready",
          database: "postgres",
        });
      }
      const sql = postgres(created.url, { max: 1 });
      const applied = await sql`select hash from drizzle.__drizzle_migrations`;
      await sql.end();
      expect(applied.map((r) => r.hash).sort()).toEqual(
        expectedMigrations(MIGRATIONS_FOLDER)
          .map((m) => m.hash)
          .sort(),
      );
    } finally {
      for (const b of bots) b.child.kill("SIGTERM");
      const exits = await Promise.all(bots.map((b) => b.exited));
      expect(exits.map((e) => e.code)).toEqual([0, 0]);
      await created.drop();
    }
  });
});
