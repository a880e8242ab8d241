import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AuditEntry, createAuditLog } from "../../src/audit/index.js";
import type { Database } from "../../src/db/index.js";
import { openTestDatabase, testLogger } from "../helpers/db.js";

let database: Database;
beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(async () => {
  await database.close();
});

const entry = (i: number): AuditEntry => ({
  source: "slack",
  actor: `U${i}`,
  action: "command.help",
  outcome: "ok",
  detail: { i },
});

describe("the batched audit log", () => {
  it("writes queued records together within the flush interval, in order", async () => {
    const audit = createAuditLog(database.db, testLogger);
    const before = await audit.count();
    for (let i = 0; i < 25; i++) audit.recordSoon(entry(i));
    expect(await audit.count()).toBe(before);
    await new Promise((r) => setTimeout(r, 400));
    expect(await audit.count()).toBe(before + 25);
    const rows = await audit.recent({ limit: 25 });
    expect(rows.map((r) => r.actor).reverse()).toEqual(Array.from({ length: 25 }, (_, i) => `U${i}`));
  });

  it("flush() writes everything queued at once (as shutdown does)", async () => {
    const audit = createAuditLog(database.db, testLogger);
    const before = await audit.count();
    for (let i = 0; i < 1200; i++) audit.recordSoon(entry(i));
    await audit.flush();
    expect(await audit.count()).toBe(before + 1200);
  });
});
