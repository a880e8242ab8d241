import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resultRows } from "../../src/db/client.js";
import type { Database } from "../../src/db/index.js";
import { kserveEvent, postEvent, startCloudEventsBot } from "../helpers/cloudevents.js";
import { openTestDatabase } from "../helpers/db.js";
import { makeToken } from "../helpers/monitoring.js";

let database: Database;
/** The same database, left open when a bot closes: a restart keeps its data. */
let kept: Database;
let auth: Record<string, string>;

beforeAll(async () => {
  database = await openTestDatabase();
  kept = { ...database, close: async () => {} };
  auth = { authorization: `Bearer ${await makeToken(database)}` };
});
afterAll(async () => {
  await database?.close();
});

async function requestIds(): Promise<string[]> {
  const r = await database.db.execute(sql`select request_id from predictions order by request_id`);
  return resultRows<{ request_id: string }>(r).map((x) => x.request_id);
}

describe("payload halves across a restart or a crash", () => {
  it("a request logged before a restart pairs with its response logged after it", async () => {
    const before = await startCloudEventsBot({ database: kept });
    expect((await postEvent(before.url, kserveEvent("v1-request"), auth)).status).toBe(202);
    await before.close();

    const after = await startCloudEventsBot({ database: kept });
    try {
      const res = await postEvent(after.url, kserveEvent("v1-response"), auth);
      expect(res).toMatchObject({ status: 200, body: { status: "paired", stored: 2 } });
      expect(await requestIds()).toEqual([
        "0009174a-24a8-4603-b098-09c8799950e9#0",
        "0009174a-24a8-4603-b098-09c8799950e9#1",
      ]);
    } finally {
      await after.close();
    }
  });

  it("a pair whose rows were not yet ingested when the process died is ingested by the next sweep", async () => {
    const bot = await startCloudEventsBot({ database: kept });
    try {
      await bot.payloadLog.scheduler.stop();
      const id = { "ce-id": "crash-1" };
      expect((await postEvent(bot.url, kserveEvent("v2-request", id), auth)).status).toBe(202);
      // The response's half committed, then the process died before ingesting the pair.
      await database.db.execute(sql`
        update payload_halves set response = ${JSON.stringify({
          version: "v1.0.0",
          rows: [
            { p: 1, c: null },
            { p: 2, c: null },
          ],
        })}::jsonb
        where event_id = 'crash-1'`);
      const swept = await bot.payloadLog.sweep();
      expect(swept.completed).toBe(1);
      expect(await requestIds()).toEqual(expect.arrayContaining(["crash-1#0", "crash-1#1"]));
      // Its response, redelivered now, changes nothing.
      const again = await postEvent(bot.url, kserveEvent("v2-response", id), auth);
      expect(again).toMatchObject({ status: 200, body: { status: "duplicate" } });
      expect((await bot.payloadLog.sweep()).completed).toBe(0);
    } finally {
      await bot.close();
    }
  });
});
