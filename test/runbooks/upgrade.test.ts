/**
 * Upgrading to one active run per runbook and incident: a database holding two `running` runs of
 * one runbook for one incident (left by a crash before the index existed) still migrates; the
 * newest keeps running, the older is marked interrupted, and from then on a second start is refused.
 */
import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, openPglite, openPostgres } from "../../src/db/index.js";
import { createRunbookRepository } from "../../src/runbooks/index.js";
import {
  createEmptyPostgresDatabase,
  migrationsUpTo as sharedMigrationsUpTo,
  TEST_DATABASE_URL,
  testLogger,
} from "../helpers/db.js";

let database: Database;
let drop: (() => Promise<void>) | undefined;
const folders: string[] = [];

/** The shipped migrations up to `last`, removed after the file's tests. */
function migrationsUpTo(last: string): string {
  const dir = sharedMigrationsUpTo(last);
  folders.push(dir);
  return dir;
}

beforeAll(async () => {
  if (TEST_DATABASE_URL) {
    const created = await createEmptyPostgresDatabase();
    database = openPostgres(created.url, testLogger, { max: 2 });
    drop = created.drop;
  } else database = await openPglite(null, testLogger);
  await database.migrate(migrationsUpTo("0008_rollups_partitions"));
});
afterAll(async () => {
  await database?.close();
  await drop?.();
  for (const f of folders) rmSync(f, { recursive: true, force: true });
});

const at = new Date("2030-03-01T12:00:00Z");
const run = (runbook: string) => ({
  runbook,
  actor: "U0OLIVIA",
  via: "command",
  params: {},
  status: "running" as const,
  startedAt: at,
  owner: "hostA:1:aaaa",
  heartbeatAt: at,
  channel: "C0FRAUD",
});

describe("migrating to one active run per runbook and incident", () => {
  it("duplicates left running keep only the newest; afterwards a second running run is not inserted", async () => {
    const repo = createRunbookRepository(database.db);
    const older = await repo.insert(run("restart-service"));
    const newer = await repo.insert(run("restart-service"));
    const other = await repo.insert(run("clear-feature-cache"));
    await database.migrate();
    expect((await repo.byId(older.id))?.status).toBe("interrupted");
    expect((await repo.byId(newer.id))?.status).toBe("running");
    expect((await repo.byId(other.id))?.status).toBe("running");
    expect(await repo.insertUnlessActive(run("restart-service"))).toBeUndefined();
    await repo.finish(newer.id, { status: "succeeded", finishedAt: at });
    expect((await repo.insertUnlessActive(run("restart-service")))?.status).toBe("running");
  });
});
