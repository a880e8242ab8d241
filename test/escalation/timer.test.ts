import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAccessControl } from "../../src/access/index.js";
import { configSchema, type MlopsConfig } from "../../src/config/index.js";
import type { Database } from "../../src/db/index.js";
import {
  createEscalationRepository,
  createEscalationService,
  createEscalationTicker,
  type EscalationDeps,
  type PageDirectory,
} from "../../src/escalation/index.js";
import { createIncidentRepository } from "../../src/incidents/index.js";
import { createOnCallService } from "../../src/oncall/index.js";
import { createOutboxRepository } from "../../src/outbox/index.js";
import { createSlackEscalationNotifier } from "../../src/slack/escalation/notifier.js";
import { oneModelConfigInput } from "../helpers/bot.js";
import { openTestDatabase, testLogger } from "../helpers/db.js";
import {
  demoDirectory,
  driftSignal,
  freshSubject,
  incidentServices,
  manualClock,
} from "../incidents/fixture.js";
import { escalationConfig } from "./helpers.js";

const MIN = 60_000;
let database: Database;
afterAll(async () => {
  await database?.close();
});
beforeAll(async () => {
  database = await openTestDatabase();
});

/** Escalation on a real database with the real outbox notifier; Slack reads come from the config's people. */
function setup(config: MlopsConfig, opts: { schedules?: boolean } = {}) {
  const clock = manualClock();
  const oncall = opts.schedules ? createOnCallService({ config, clock }) : undefined;
  const services = incidentServices(database, config, clock);
  const people = demoDirectory(config);
  const directory: PageDirectory = {
    groupId: async (g) => `S_${g.handle}`,
    members: (g) => people.members(g),
    openDm: async (user) => `D_${user}`,
    link: async () => null,
  };
  const deps: EscalationDeps = {
    db: database.db,
    clock,
    config,
    logger: testLogger,
    access: createAccessControl(config, people),
    notifier: createSlackEscalationNotifier({ clock, wake: () => {}, updateCard: async () => 0 }),
    directory,
    acknowledge: (req) => services.incidents.act(req),
    ...(oncall ? { onCall: async (s: string, at: Date) => (await oncall.whoIsOn(s, at))?.user ?? null } : {}),
  };
  const escalation = createEscalationService(deps);
  const ticker = createEscalationTicker(deps, escalation);
  async function open() {
    const [outcome] = await services.intake.process([
      driftSignal(clock, { subject: freshSubject("amount") }),
    ]);
    return outcome?.incidentId as number;
  }
  const kinds = async (id: number) =>
    (await createIncidentRepository(database.db).timeline(id)).map((e) => e.kind);
  const dmCount = async (user: string) =>
    (await createOutboxRepository(database.db).all()).filter((r) => r.channel === `D_${user}`).length;
  return { clock, services, escalation, ticker, open, kinds, dmCount };
}

describe("the escalation timer on a manual clock", () => {
  it("pages the person on call in a tier's schedule instead of every member, and the group when nobody is", async () => {
    // The manual clock starts Tuesday 2030-01-01 12:00 UTC. ds-oncall has Dev on call from 12:00
    // to 12:20 UTC and nobody after. L2 is paged at 12:06, 12:17 and 12:28, each page going out
    // two minutes later (the card is never delivered here, so a page waits a minute for its thread).
    const t = setup(
      configSchema.parse(
        oneModelConfigInput({
          alerting: { group_by: ["model", "monitor", "subject"] },
          schedules: {
            "ds-oncall": {
              layers: [
                {
                  users: ["U0DEV"],
                  rotation: "daily",
                  handoff: "00:00",
                  start: "2030-01-01",
                  restrictions: [{ from: "12:00", to: "12:20" }],
                },
              ],
            },
          },
          escalation: {
            default: { l1: { wait: "5m" }, l2: { wait: "10m", repeat: 2, schedule: "ds-oncall" } },
          },
        }),
      ),
      { schedules: true },
    );
    const id = await t.open();
    const before = { dev: await t.dmCount("U0DEV"), dana: await t.dmCount("U0DANA") };
    const step = async (minutes: number) => {
      t.clock.advance(minutes * MIN);
      await t.ticker.tick();
      t.clock.advance(2 * MIN);
      await t.ticker.tick();
    };
    await t.ticker.tick();
    await step(6);
    await step(9);
    expect((await t.dmCount("U0DEV")) - before.dev).toBe(2);
    expect((await t.dmCount("U0DANA")) - before.dana).toBe(0);
    // 12:30: nobody is on call in ds-oncall any more, so the whole L2 group is DMed.
    await step(9);
    expect((await t.dmCount("U0DEV")) - before.dev).toBe(3);
    expect((await t.dmCount("U0DANA")) - before.dana).toBe(1);
    const paged = (await createIncidentRepository(database.db).timeline(id)).filter(
      (e) => e.kind === "paged",
    );
    expect(paged.map((e) => [e.detail.schedule, e.detail.onCall, e.detail.members])).toEqual([
      ["ds-oncall", "U0DEV", ["U0DEV"]],
      ["ds-oncall", "U0DEV", ["U0DEV"]],
      ["ds-oncall", null, ["U0DANA", "U0DEV"]],
    ]);
    expect(paged[0]?.detail.what).toBe("L2 @ds-oncall (on call in ds-oncall: <@U0DEV>): <@U0DEV>");
    // Resolved, so its L3 step does not reach the next test's counts (they share the database).
    await t.services.incidents.act({
      incidentId: id,
      action: "resolve",
      actor: "U0DEV",
      via: "command",
      note: "ok",
    });
  });

  it("reminds in the thread while acknowledged but unresolved, and stops once resolved", async () => {
    const t = setup(escalationConfig({ default: { l1: { wait: "5m" }, remind_every: "30m" } }));
    const id = await t.open();
    await t.ticker.tick();
    await t.services.incidents.act({
      incidentId: id,
      action: "acknowledge",
      actor: "U0OLIVIA",
      via: "command",
    });
    t.clock.advance(6 * MIN);
    await t.ticker.tick();
    expect((await t.kinds(id)).filter((k) => k === "escalation_reminded")).toHaveLength(1);
    t.clock.advance(31 * MIN);
    await t.ticker.tick();
    expect((await t.kinds(id)).filter((k) => k === "escalation_reminded")).toHaveLength(2);
    await t.services.incidents.act({
      incidentId: id,
      action: "resolve",
      actor: "U0OLIVIA",
      via: "command",
      note: "ok",
    });
    t.clock.advance(31 * MIN);
    await t.ticker.tick();
    expect((await t.kinds(id)).filter((k) => k === "escalation_reminded")).toHaveLength(2);
    expect((await createEscalationRepository(database.db).byIncident(id))?.nextAt).toBeNull();
    expect(await t.kinds(id)).not.toContain("escalated");
  });

  it("pages a tier again as often as its repeat count says, then the next tier, then stops", async () => {
    const t = setup(
      escalationConfig({
        default: { l1: { wait: "5m" }, l2: { wait: "10m", repeat: 1 }, l3: { wait: "1h" } },
      }),
    );
    const id = await t.open();
    const dana = await t.dmCount("U0DANA");
    const maya = await t.dmCount("U0MAYA");
    await t.ticker.tick();
    for (const minutes of [6, 11, 11, 61]) {
      t.clock.advance(minutes * MIN);
      await t.ticker.tick();
    }
    const pages = await createEscalationRepository(database.db).pagesOf(id);
    expect(pages.map((p) => [p.tier, p.reason, p.state])).toEqual([
      [2, "timeout", "done"],
      [2, "repeat", "done"],
      [3, "timeout", "done"],
    ]);
    expect((await t.dmCount("U0DANA")) - dana).toBe(2);
    expect((await t.dmCount("U0MAYA")) - maya).toBe(1);
    expect((await t.kinds(id)).filter((k) => k === "escalation_exhausted")).toHaveLength(1);
    t.clock.advance(120 * MIN);
    await t.ticker.tick();
    expect(await createEscalationRepository(database.db).pagesOf(id)).toHaveLength(3);
  });

  it("with auto off, nothing escalates by itself but a person still may", async () => {
    const t = setup(escalationConfig({ default: { auto: false } }));
    const id = await t.open();
    await t.ticker.tick();
    // (The card is never delivered here: pages wait up to a minute for its thread, then go without.)
    t.clock.advance(300 * MIN);
    await t.ticker.tick();
    expect(await t.kinds(id)).not.toContain("escalated");
    const result = await t.escalation.escalate({ incidentId: id, actor: "U0OLIVIA", via: "command" });
    expect(result.outcome).toBe("done");
    t.clock.advance(2 * MIN);
    await t.ticker.tick();
    expect((await t.kinds(id)).filter((k) => k === "paged")).toHaveLength(1);
  });

  it("freezes the policy when escalation starts: a config change later does not touch it", async () => {
    const before = setup(escalationConfig({ default: { l1: { wait: "5m" } } }));
    const id = await before.open();
    await before.ticker.tick();
    // Another process with a longer L1 wait takes the deadline: the frozen 5m still applies.
    const after = setup(escalationConfig({ default: { l1: { wait: "2h" } } }));
    after.clock.advance(6 * MIN);
    await after.ticker.tick();
    expect((await after.kinds(id)).filter((k) => k === "escalated")).toHaveLength(1);
  });
});
