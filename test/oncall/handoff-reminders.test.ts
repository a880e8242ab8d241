import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAccessControl } from "../../src/access/index.js";
import { createAuditRepository } from "../../src/audit/index.js";
import type { Database } from "../../src/db/index.js";
import { createOverrideService } from "../../src/oncall/index.js";
import { createOutboxRepository } from "../../src/outbox/index.js";
import { createOnCallFeature, type OnCallFeature } from "../../src/wiring/oncall-feature.js";
import { openTestDatabase } from "../helpers/db.js";
import { featureContext, manualClock } from "../helpers/monitoring.js";
import { configWith, demoDirectory, driftSignal, incidentServices } from "../incidents/fixture.js";

// The demo's ds-oncall: weekly, Monday 09:00 Berlin. Monday 30 March (after the clocks went
// forward) Dana takes over from Dev at 07:00Z; Monday 6 April Dev takes over from Dana.
const config = configWith();
const clock = manualClock(new Date("2026-03-30T06:00:00Z"));
let database: Database;
let replicas: [OnCallFeature, OnCallFeature];
let incidentRef: string;

beforeAll(async () => {
  database = await openTestDatabase();
  // Two replicas of the feature on one database, as two bot processes would run it.
  replicas = [
    createOnCallFeature(featureContext(database, config, clock), { instanceId: "replica-a" }),
    createOnCallFeature(featureContext(database, config, clock), { instanceId: "replica-b" }),
  ];
  const [outcome] = await incidentServices(database, config, clock).intake.process([driftSignal(clock)], []);
  incidentRef = `INC-${outcome?.incidentId}`;
});
afterAll(async () => {
  await database?.close();
});

/** Runs the reminder tick on both replicas at `iso`; what each one made of it. */
async function tickBoth(iso: string): Promise<string[]> {
  clock.set(new Date(iso));
  return Promise.all(replicas.map((r) => r.scheduler.tick("oncall:handoff-reminders")));
}

/** The handoff DMs queued so far, as (to, text of the blocks). */
async function reminders(): Promise<[string, string][]> {
  const rows = await createOutboxRepository(database.db).all();
  return rows
    .filter((r) => String(r.payload.text).startsWith("Handoff:"))
    .map((r) => [r.channel, JSON.stringify(r.payload.blocks)]);
}

describe("handoff reminders", () => {
  it("DM the incoming person once, 30 minutes before the handoff, across two replicas, listing open incidents", async () => {
    expect((await tickBoth("2026-03-30T06:29:00Z")).sort()).toEqual(["ran", "taken"]);
    expect(await reminders()).toEqual([]);
    expect((await tickBoth("2026-03-30T06:30:00Z")).sort()).toEqual(["ran", "taken"]);
    const sent = await reminders();
    expect(sent).toHaveLength(1);
    const [to, text] = sent[0] as [string, string];
    expect(to).toBe("U0DANA");
    expect(text).toContain("You are on call in *ds-oncall* from <!date^1774854000^");
    expect(text).toContain("taking over from <@U0DEV>");
    expect(text).toContain(`*${incidentRef}* [warning, open] fraud-detector: Drift in amount: PSI 0.34`);
    // The next minute and the handoff itself send nothing more.
    await tickBoth("2026-03-30T06:31:00Z");
    await tickBoth("2026-03-30T07:00:00Z");
    expect(await reminders()).toHaveLength(1);
  });

  it("follow overrides: the cover is reminded before their stretch, and the rotation's person before theirs", async () => {
    const overrides = createOverrideService({
      db: database.db,
      config,
      clock,
      access: createAccessControl(config, demoDirectory(config)),
      audit: createAuditRepository(database.db),
    });
    clock.set(new Date("2026-04-01T12:00:00Z"));
    // Gus covers Monday 6 April 06:50–08:00Z, across Dana → Dev at 07:00Z.
    await overrides.create({
      actor: "U0DANA",
      schedule: "ds-oncall",
      who: "U0GUEST",
      from: new Date("2026-04-06T06:50:00Z"),
      to: new Date("2026-04-06T08:00:00Z"),
    });
    const before = (await reminders()).length;
    await tickBoth("2026-04-06T06:20:00Z");
    await tickBoth("2026-04-06T06:30:00Z");
    await tickBoth("2026-04-06T07:30:00Z");
    const sent = (await reminders()).slice(before);
    expect(sent.map(([to]) => to)).toEqual(["U0GUEST", "U0DEV"]);
    expect(sent[0]?.[1]).toContain("taking over from <@U0DANA>");
    expect(sent[1]?.[1]).toContain("taking over from <@U0GUEST>");
  });
});
