import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAccessControl } from "../../src/access/index.js";
import { createAuditRepository } from "../../src/audit/index.js";
import type { Database } from "../../src/db/index.js";
import { schema } from "../../src/db/index.js";
import {
  createOnCallService,
  createOverrideService,
  OnCallError,
  type OverrideService,
  parseSpan,
} from "../../src/oncall/index.js";
import { demoConfig } from "../helpers/bot.js";
import { openTestDatabase } from "../helpers/db.js";
import { demoDirectory } from "../incidents/fixture.js";

/** Wednesday 25 March 2026, 13:00 in Berlin: Dev's week in ds-oncall (Dana's starts Monday 30th 09:00). */
const NOW = new Date("2026-03-25T12:00:00Z");
const HANDOFF = new Date("2026-03-30T07:00:00Z");
const config = demoConfig();
let database: Database;
let overrides: OverrideService;
const audit = () => createAuditRepository(database.db);
const known = new Set(config.sandbox.users.map((u) => u.id));

beforeAll(async () => {
  database = await openTestDatabase();
  overrides = createOverrideService({
    db: database.db,
    config,
    clock: { now: () => NOW },
    access: createAccessControl(config, demoDirectory(config)),
    audit: audit(),
    isUser: async (id) => known.has(id),
  });
});
afterAll(async () => {
  await database?.close();
});

const rows = () => database.db.select().from(schema.oncallOverrides);

async function refusal(p: Promise<unknown>): Promise<OnCallError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OnCallError);
  return err as OnCallError;
}

describe("parseSpan", () => {
  it("reads `YYYY-MM-DD HH:MM` on the viewer's clock and ISO times with their offset", () => {
    // 30 March is after the spring-forward in Berlin (+02:00); New York is on -04:00.
    expect(parseSpan(["2026-03-30", "08:00", "2026-03-30T10:00Z"], "Europe/Berlin", NOW)).toEqual({
      from: new Date("2026-03-30T06:00:00Z"),
      to: new Date("2026-03-30T10:00:00Z"),
    });
    expect(parseSpan(["now", "2026-03-25T20:00"], "America/New_York", NOW)).toEqual({
      from: NOW,
      to: new Date("2026-03-26T00:00:00Z"),
    });
  });

  it("says what it did not understand", () => {
    expect(parseSpan(["2026-02-30", "08:00", "now"], "UTC", NOW)).toMatch(/`2026-02-30` is not a time/);
    expect(parseSpan(["2026-03-30", "24:10", "now"], "UTC", NOW)).toMatch(/is not a time/);
    expect(parseSpan(["tomorrow", "now"], "UTC", NOW)).toMatch(/`tomorrow` is not a time/);
    expect(parseSpan(["now"], "UTC", NOW)).toMatch(/two times/);
    expect(parseSpan(["now", "2026-03-25T11:00Z"], "UTC", NOW)).toMatch(/must end after it starts/);
  });
});

describe("overrides in Postgres", () => {
  it("refuses bad input and people who may not, writing no override", async () => {
    const base = { actor: "U0DANA", schedule: "ds-oncall", who: "U0DANA", from: NOW, to: HANDOFF };
    expect((await refusal(overrides.create({ ...base, schedule: "nope" }))).code).toBe("unknown_schedule");
    expect((await refusal(overrides.create({ ...base, who: "U0NOBODY" }))).code).toBe("bad_override");
    expect((await refusal(overrides.create({ ...base, who: "dana" }))).code).toBe("bad_override");
    expect((await refusal(overrides.create({ ...base, from: HANDOFF, to: NOW }))).code).toBe("bad_override");
    const past = { from: new Date("2026-03-01T00:00:00Z"), to: new Date("2026-03-02T00:00:00Z") };
    expect((await refusal(overrides.create({ ...base, ...past }))).message).toContain("past");
    // Olivia is L1 and not in ds-oncall; Gus is in no group.
    for (const actor of ["U0OLIVIA", "U0GUEST"])
      expect((await refusal(overrides.create({ ...base, actor }))).code).toBe("not_allowed");
    expect(await rows()).toHaveLength(0);
    const refused = (await audit().recent()).filter((a) => a.outcome === "refused");
    expect(refused.map((a) => a.actor).sort()).toEqual(["U0GUEST", "U0OLIVIA"]);
  });

  it("an override across the handoff changes who is on call on both sides; undo restores the rotation", async () => {
    const oncall = createOnCallService({ config, clock: { now: () => NOW }, overrides: overrides.source() });
    const before = new Date(HANDOFF.getTime() - 3_600_000);
    const after = new Date(HANDOFF.getTime() + 3_600_000);
    expect((await oncall.whoIsOn("ds-oncall", before))?.user).toBe("U0DEV");
    expect((await oncall.whoIsOn("ds-oncall", after))?.user).toBe("U0DANA");
    // Maya owns a model (manage_oncall: l2, owners) and puts Gus, from no group, on call.
    const row = await overrides.create({
      actor: "U0MAYA",
      schedule: "ds-oncall",
      who: "U0GUEST",
      from: new Date(HANDOFF.getTime() - 2 * 3_600_000),
      to: new Date(HANDOFF.getTime() + 2 * 3_600_000),
    });
    expect((await oncall.whoIsOn("ds-oncall", before))?.user).toBe("U0GUEST");
    expect((await oncall.whoIsOn("ds-oncall", after))?.source).toEqual({
      kind: "override",
      id: String(row.id),
    });
    expect((await overrides.upcoming("ds-oncall")).map((o) => o.id)).toEqual([row.id]);

    expect((await refusal(overrides.undo("U0OLIVIA", row.id))).code).toBe("not_allowed");
    const undone = await overrides.undo("U0DEV", row.id);
    expect(undone).toMatchObject({ undoneBy: "U0DEV", undoneAt: NOW });
    expect((await oncall.whoIsOn("ds-oncall", before))?.user).toBe("U0DEV");
    expect((await oncall.whoIsOn("ds-oncall", after))?.user).toBe("U0DANA");
    expect(await overrides.upcoming("ds-oncall")).toEqual([]);
    expect((await refusal(overrides.undo("U0DEV", row.id))).code).toBe("already_undone");
    expect((await refusal(overrides.undo("U0DEV", 999_999))).code).toBe("unknown_override");

    const trail = (await audit().recent())
      .filter((a) => a.outcome === "ok")
      .map((a) => [a.action, a.actor, a.detail.id]);
    expect(trail).toEqual([
      ["oncall.override.undo", "U0DEV", row.id],
      ["oncall.override", "U0MAYA", row.id],
    ]);
  });
});
